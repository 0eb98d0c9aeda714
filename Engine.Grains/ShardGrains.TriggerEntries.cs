using Engine.Grains.Orders;

namespace Engine.Grains;

public sealed partial class ShardGrains
{
    /// <summary>
    /// The entries of the shard's trigger books, kept where the shard finds them anyway: an order's in
    /// the order (found by number in <see cref="_orders"/>), a position's liquidation level (negative
    /// key) in a small map of its own. Saves the books a key map each, about 40 bytes per resting order.
    /// </summary>
    /// <remarks>
    /// An entry packs into one long: the book id in the top 12 bits (from 1, so a packed entry is never
    /// 0, which means none), the kind in the next 2, the position (a level's sequence or a trailing
    /// entry's slot) in the low 50. Sequences run out after 2^50 entries added in one shard's life,
    /// about 35 years at a million a second; the limits are checked.
    /// </remarks>
    private sealed class TriggerEntries(Dictionary<long, Order> orders) : ITriggerEntryStore
    {
        private const int PositionBits = 50;
        private const long PositionMask = (1L << PositionBits) - 1;
        private const int MaxBooks = (1 << 12) - 1;

        private readonly Dictionary<long, TriggerEntry> _levels = [];
        private int _books;
        private long _nextSeq;

        public int RegisterBook()
        {
            if (_books == MaxBooks) throw new InvalidOperationException($"a shard holds at most {MaxBooks} trigger books");
            return ++_books;
        }

        public long NextSeq()
        {
            if (_nextSeq > PositionMask) throw new InvalidOperationException("the shard's trigger-book sequence is exhausted");
            return _nextSeq++;
        }

        public long IssuedSeqs => _nextSeq;

        public bool TryGet(long key, out TriggerEntry entry)
        {
            if (key < 0) return _levels.TryGetValue(key, out entry);
            if (orders.TryGetValue(key, out var order) && order.BookEntry != 0)
            {
                entry = Unpack(order.BookEntry);
                return true;
            }

            entry = default;
            return false;
        }

        public bool TryAdd(long key, TriggerEntry entry)
        {
            if (key < 0) return _levels.TryAdd(key, entry);
            if (!orders.TryGetValue(key, out var order)) throw new InvalidOperationException($"order {key} is not in the shard: it cannot wait in a trigger book");
            if (order.BookEntry != 0) return false;
            order.BookEntry = Pack(entry);
            return true;
        }

        public bool TryRemove(long key, int book, out TriggerEntry removed)
        {
            if (key < 0) return _levels.TryGetValue(key, out removed) && removed.Book == book && _levels.Remove(key);
            if (!orders.TryGetValue(key, out var order) || order.BookEntry == 0)
            {
                removed = default;
                return false;
            }

            removed = Unpack(order.BookEntry);
            if (removed.Book != book) return false;
            order.BookEntry = 0;
            return true;
        }

        private static long Pack(TriggerEntry entry)
        {
            if ((ulong)entry.Position > PositionMask) throw new InvalidOperationException($"trigger-book position {entry.Position} does not fit");
            return ((long)entry.Book << (PositionBits + 2)) | ((long)entry.Kind << PositionBits) | entry.Position;
        }

        private static TriggerEntry Unpack(long packed) =>
            new((int)((ulong)packed >> (PositionBits + 2)), (TriggerEntryKind)((packed >> PositionBits) & 3), packed & PositionMask);
    }
}
