namespace Engine.Grains.Orders;

internal enum TriggerEntryKind : byte
{
    RiseLevel = 0,
    FallLevel = 1,
    RiseTrailing = 2,
    FallTrailing = 3,
}

/// <summary>
/// What a book knows about a key: which book holds it, in which structure, and where. For a level,
/// <see cref="Position"/> is the insertion sequence of its heap node: sequences are unique over the
/// lifetime of the store, which is what lets a level heap recognise its lazily deleted nodes even
/// after the key has been reused, in this book or another. For a trailing entry it is the node's slot.
/// </summary>
internal readonly record struct TriggerEntry(int Book, TriggerEntryKind Kind, long Position);

/// <summary>A live entry of one book, for snapshots: its key, insertion sequence and kind.</summary>
internal readonly record struct TriggerBookEntry(long Key, long Seq, TriggerEntryKind Kind);

/// <summary>
/// Where trigger books keep the entry of each key, so that a book needs no key map of its own: the
/// shard keeps an order's entry in the order itself, which it indexes by number anyway. Several books
/// share one store; a key has at most one entry, in one book. Single-writer, like the books.
/// </summary>
internal interface ITriggerEntryStore
{
    /// <summary>An id, unique among the books of this store, for a new book.</summary>
    int RegisterBook();

    /// <summary>The next insertion sequence, unique among the books of this store.</summary>
    long NextSeq();

    /// <summary>How many sequences were issued: the one <see cref="NextSeq"/> will issue next.</summary>
    long IssuedSeqs { get; }

    bool TryGet(long key, out TriggerEntry entry);

    /// <summary>Adds the key's entry; false when the key has one already.</summary>
    bool TryAdd(long key, TriggerEntry entry);

    /// <summary>Removes the key's entry if it belongs to <paramref name="book"/>.</summary>
    bool TryRemove(long key, int book, out TriggerEntry removed);
}

/// <summary>A store of its own for a book that has no shard around it: a dictionary.</summary>
internal sealed class DictionaryTriggerEntryStore : ITriggerEntryStore
{
    private readonly Dictionary<long, TriggerEntry> _entries = new();
    private int _books;
    private long _nextSeq;

    public int RegisterBook() => ++_books;

    public long NextSeq() => _nextSeq++;

    public long IssuedSeqs => _nextSeq;

    public bool TryGet(long key, out TriggerEntry entry) => _entries.TryGetValue(key, out entry);

    public bool TryAdd(long key, TriggerEntry entry) => _entries.TryAdd(key, entry);

    public bool TryRemove(long key, int book, out TriggerEntry removed)
    {
        if (!_entries.Remove(key, out removed))
        {
            return false;
        }

        if (removed.Book == book)
        {
            return true;
        }

        _entries.Add(key, removed);
        return false;
    }
}
