namespace Engine.Silo.Persistence;

/// <summary>
/// One durable record of a shard's journal. <see cref="Sequence"/> is assigned by the journal, starts
/// at 1 and grows by exactly 1 per record within a shard. <see cref="Payload"/> is opaque to the store:
/// the engine serializes its own events.
/// </summary>
public readonly record struct JournalRecord(long Sequence, ReadOnlyMemory<byte> Payload);
