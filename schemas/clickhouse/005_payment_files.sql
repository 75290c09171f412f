-- Payment files: one message can carry many events, so a dead letter is identified by its
-- message and the event's index in the file (0: the message itself).
ALTER TABLE dead_letters
    ADD COLUMN IF NOT EXISTS source_index UInt32 AFTER source_offset,
    MODIFY ORDER BY (source_topic, source_partition, source_offset, source_index);
