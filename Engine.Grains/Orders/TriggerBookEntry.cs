namespace Engine.Grains.Orders;

internal enum TriggerEntryKind : byte
{
    RiseLevel = 0,
    FallLevel = 1,
    RiseTrailing = 2,
    FallTrailing = 3,
}

/// <summary>
/// What the book knows about a key. <see cref="Seq"/> is unique over the book's lifetime, which is
/// what lets a level heap recognise its lazily deleted nodes even after the key has been reused.
/// <see cref="Slot"/> is the trailing node index; unused for levels.
/// </summary>
internal readonly record struct TriggerEntry(long Seq, int Slot, TriggerEntryKind Kind);
