"""Sending events to Kafka: producers, payment files, topic admin."""
