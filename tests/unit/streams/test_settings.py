import pytest

from streams.settings import Settings


def test_settings_survive_the_trip_through_a_child_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent = Settings(
        _env_file=None,
        worker_gc_thresholds=(1000, 5, 7),
        topic_partitions=3,
        web_enabled=True,
        pseudonym_key="k" * 32,
    )
    for name, value in sent.to_env().items():
        monkeypatch.setenv(name, value)
    received = Settings(_env_file=None)
    assert received.model_dump() == sent.model_dump()
    assert received.pseudonym_key is not None and sent.pseudonym_key is not None
    assert received.pseudonym_key.get_secret_value() == sent.pseudonym_key.get_secret_value()
