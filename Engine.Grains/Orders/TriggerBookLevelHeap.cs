namespace Engine.Grains.Orders;

/// <summary>
/// Level triggers of one direction as a max-heap in "fires when x &lt;= trigger" form (the book
/// negates Rise prices). Ties pop in insertion order, so popping yields exactly the documented firing
/// order.
/// </summary>
/// <remarks>
/// <para>
/// Removal is lazy: the entry store is the source of truth, and a node is live only while the store
/// maps its key to this heap's entry with the node's sequence number. Outside a firing the top is kept live so
/// that a price firing nothing is one comparison against <c>_nodes[0]</c>; dead nodes below the top are
/// dropped when they surface or when a compaction runs after they outnumber the live ones.
/// Nodes carry the trigger inline so sifting never chases a pointer.
/// </para>
/// <para>
/// A firing is split so that the caller can act on the first fired key before the heap is restructured
/// and before the fired entries are looked up one by one in the store; both cost a cache miss or more
/// per fired node on a heap far larger than the caches, about a microsecond per node together.
/// <see cref="Collect"/> finds the nodes the price reaches without moving any: the nodes with trigger
/// &gt;= x form a subtree hanging from the root (a parent is never below its child), so a walk of that
/// subtree visits only them and their children, in adjacent cache lines. It does not look at the
/// store: whether a reached node was live when the firing began is settled when
/// <see cref="TryTakeFired"/> comes to it, or earlier when the caller asks about its key
/// (<see cref="SettleIfFired"/>). That gives the same answer as looking at once: until a node is
/// settled nothing can have changed its key's entry without settling it, and sequence numbers are
/// never reused. <see cref="CompleteFire"/> settles what is left and pops the dead nodes off the top:
/// the heap then holds the same live nodes under a live top as popping them as they fired would have
/// left.
/// </para>
/// </remarks>
internal sealed class TriggerLevelHeap
{
    private const int MinCapacity = 16;

    private readonly ITriggerEntryStore _store;
    private readonly int _book;
    private readonly TriggerEntryKind _kind;
    private Node[] _nodes = [];
    private int _count;
    private int _dead;

    // The nodes the open firing reached, in pop order, with what is known of each; from _firedNext on
    // they are not handed out yet. _bySeq (built when first needed) finds one by sequence number.
    private Node[] _fired = [];
    private Settled[] _settled = [];
    private int _firedCount;
    private int _firedNext;
    private bool _collected;
    private long _firedMinSeq;
    private long _firedMaxSeq;
    private long[] _bySeq = [];
    private int[] _bySeqAt = [];
    private bool _bySeqBuilt;
    private int[] _stack = [];

    public TriggerLevelHeap(ITriggerEntryStore store, int book, TriggerEntryKind kind)
    {
        _store = store;
        _book = book;
        _kind = kind;
    }

    /// <summary>Live nodes; while a firing is open, after <see cref="SettleAll"/> only.</summary>
    public int LiveCount => _count - _dead;

    public void Add(decimal trigger, long seq, long key)
    {
        if (_count == _nodes.Length)
        {
            Array.Resize(ref _nodes, Math.Max(MinCapacity, _nodes.Length * 2));
        }

        SiftUp(_count++, new Node(trigger, seq, key));
    }

    public bool WouldFire(decimal x) => _count != 0 && _nodes[0].Trigger >= x;

    /// <summary>
    /// Opens a firing at x: every node with trigger &gt;= x that is live now fires, and
    /// <see cref="TryTakeFired"/> hands the keys out in pop order. Until <see cref="CompleteFire"/> the
    /// top may be dead, so <see cref="WouldFire"/> must not be asked; adding and removing entries in
    /// between is fine, provided the book settles a key of this heap (<see cref="SettleIfFired"/>)
    /// before it reads, removes or replaces its entry.
    /// </summary>
    public void Collect(decimal x)
    {
        var nodes = _nodes;
        var count = _count;
        var stack = _stack;
        var depth = 0;
        var fired = 0;
        var minSeq = long.MaxValue;
        var maxSeq = long.MinValue;
        if (count != 0 && nodes[0].Trigger >= x)
        {
            Push(ref stack, ref depth, 0);
        }

        while (depth != 0)
        {
            var at = stack[--depth];
            ref readonly var node = ref nodes[at];
            if (fired == _fired.Length)
            {
                var capacity = Math.Max(MinCapacity, _fired.Length * 2);
                Array.Resize(ref _fired, capacity);
                Array.Resize(ref _settled, capacity);
            }

            _fired[fired] = node;
            _settled[fired++] = Settled.No;
            minSeq = Math.Min(minSeq, node.Seq);
            maxSeq = Math.Max(maxSeq, node.Seq);

            var first = (at << 2) + 1;
            var end = Math.Min(first + 4, count);
            for (var child = first; child < end; child++)
            {
                if (nodes[child].Trigger >= x)
                {
                    Push(ref stack, ref depth, child);
                }
            }
        }

        _stack = stack;
        _firedCount = fired;
        _firedNext = 0;
        _firedMinSeq = minSeq;
        _firedMaxSeq = maxSeq;
        _bySeqBuilt = false;
        _collected = true;
        new Span<Node>(_fired, 0, fired).Sort(default(PopOrder));
    }

    /// <summary>The next key the open firing fired, in pop order; false when none is left.</summary>
    public bool TryTakeFired(out long key)
    {
        while (_firedNext < _firedCount)
        {
            var at = _firedNext++;
            if (_settled[at] == Settled.Fired || (_settled[at] == Settled.No && TakeIfLive(_fired[at])))
            {
                key = _fired[at].Key;
                return true;
            }
        }

        key = 0;
        return false;
    }

    /// <summary>
    /// Called by the book, while a firing is open, for an entry of this heap it found in the store and
    /// is about to read, remove or replace: when the entry is a node the firing reached and has not
    /// handed out yet, it fired when the firing began. It leaves the store now, as it would have then,
    /// is still handed out in its turn, and the answer is true.
    /// </summary>
    public bool SettleIfFired(long key, long seq)
    {
        if (!_collected || seq < _firedMinSeq || seq > _firedMaxSeq)
        {
            return false;
        }

        if (!_bySeqBuilt)
        {
            BuildBySeq();
        }

        var i = Array.BinarySearch(_bySeq, 0, _firedCount, seq);
        if (i < 0)
        {
            return false;
        }

        var at = _bySeqAt[i];
        if (at < _firedNext || _settled[at] != Settled.No)
        {
            return false;
        }

        // Unsettled and still in the store under its own sequence: it was live when the firing began.
        _store.TryRemove(key, _book, out _);
        _dead++;
        _settled[at] = Settled.Fired;
        return true;
    }

    /// <summary>Settles every node not handed out yet, so that the store and the counts are exact.</summary>
    public void SettleAll()
    {
        for (var at = _firedNext; at < _firedCount; at++)
        {
            if (_settled[at] == Settled.No)
            {
                _settled[at] = TakeIfLive(_fired[at]) ? Settled.Fired : Settled.Dead;
            }
        }
    }

    /// <summary>
    /// Ends the open firing: what was not handed out stays fired, and the dead nodes are popped off the
    /// top, so the top is live again.
    /// </summary>
    public void CompleteFire()
    {
        if (!_collected)
        {
            return;
        }

        SettleAll();
        _collected = false;
        _firedCount = 0;
        _firedNext = 0;

        // Give back what a burst grew only once the heap itself has shrunk, so alternating large and small
        // bursts do not reallocate every time.
        if (_fired.Length > 1024 && _fired.Length > 4 * LiveCount)
        {
            _fired = [];
            _settled = [];
            _bySeq = [];
            _bySeqAt = [];
        }

        if (_stack.Length > 1024 && _stack.Length > 4 * LiveCount)
        {
            _stack = [];
        }

        DropDeadTop();
    }

    /// <summary>Fires a reached node if it is live: its key leaves the store and it counts as dead.</summary>
    private bool TakeIfLive(in Node node)
    {
        // One store operation: remove, and put back in the rare case of a leftover from a reused key's
        // earlier life in this book.
        if (!_store.TryRemove(node.Key, _book, out var entry))
        {
            return false;
        }

        if (!Is(entry, node))
        {
            _store.TryAdd(node.Key, entry);
            return false;
        }

        _dead++;
        return true;
    }

    private bool Is(in TriggerEntry entry, in Node node) => entry.Position == node.Seq && entry.Kind == _kind;

    private void BuildBySeq()
    {
        if (_bySeq.Length < _firedCount)
        {
            _bySeq = new long[_fired.Length];
            _bySeqAt = new int[_fired.Length];
        }

        for (var i = 0; i < _firedCount; i++)
        {
            _bySeq[i] = _fired[i].Seq;
            _bySeqAt[i] = i;
        }

        Array.Sort(_bySeq, _bySeqAt, 0, _firedCount);
        _bySeqBuilt = true;
    }

    private static void Push(ref int[] stack, ref int depth, int at)
    {
        if (depth == stack.Length)
        {
            Array.Resize(ref stack, Math.Max(MinCapacity, stack.Length * 2));
        }

        stack[depth++] = at;
    }

    /// <summary>Called after the book has already dropped the key from the store.</summary>
    public void OnRemoved(long key, long seq)
    {
        _dead++;
        if (_nodes[0].Seq == seq && _nodes[0].Key == key)
        {
            PopTop();
            _dead--;
            DropDeadTop();
        }

        if (_dead > _count - _dead)
        {
            Compact();
        }
    }

    private bool IsLive(in Node node) => _store.TryGet(node.Key, out var entry) && entry.Book == _book && Is(entry, node);

    /// <summary>Appends the live nodes' keys and sequences (in no order).</summary>
    public void AddLiveTo(List<TriggerBookEntry> entries)
    {
        // With no dead node counted every node is live, and the store lookups (a cache miss or two
        // each) can be skipped: about 0.1 s of a snapshot of a million resting orders.
        var checkEach = _dead != 0;
        for (var i = 0; i < _count; i++)
        {
            if (!checkEach || IsLive(_nodes[i]))
            {
                entries.Add(new TriggerBookEntry(_nodes[i].Key, _nodes[i].Seq, _kind));
            }
        }
    }

    private void DropDeadTop()
    {
        while (_count != 0 && !IsLive(_nodes[0]))
        {
            PopTop();
            _dead--;
        }
    }

    private void Compact()
    {
        var live = 0;
        for (var i = 0; i < _count; i++)
        {
            if (IsLive(_nodes[i]))
            {
                _nodes[live++] = _nodes[i];
            }
        }

        _count = live;
        _dead = 0;
        if (_nodes.Length > MinCapacity && _nodes.Length > 4 * live)
        {
            Array.Resize(ref _nodes, Math.Max(MinCapacity, 2 * live));
        }

        for (var i = (_count - 2) >> 2; i >= 0; i--)
        {
            SiftDown(i, _nodes[i]);
        }
    }

    private void PopTop()
    {
        var last = --_count;
        if (last > 0)
        {
            SiftDown(0, _nodes[last]);
        }
    }

    // A 4-ary heap: half the depth of a binary one, and the four children share adjacent cache lines,
    // which is what a pop on a heap far larger than the CPU caches pays for. Sifting moves a hole rather
    // than swapping.
    private void SiftUp(int hole, Node node)
    {
        var nodes = _nodes;
        while (hole > 0)
        {
            var parent = (hole - 1) >> 2;
            if (!Before(node, nodes[parent]))
            {
                break;
            }

            nodes[hole] = nodes[parent];
            hole = parent;
        }

        nodes[hole] = node;
    }

    private void SiftDown(int hole, Node node)
    {
        var nodes = _nodes;
        var count = _count;
        while (true)
        {
            var first = (hole << 2) + 1;
            if (first >= count)
            {
                break;
            }

            var best = first;
            var end = Math.Min(first + 4, count);
            for (var child = first + 1; child < end; child++)
            {
                if (Before(nodes[child], nodes[best]))
                {
                    best = child;
                }
            }

            if (!Before(nodes[best], node))
            {
                break;
            }

            nodes[hole] = nodes[best];
            hole = best;
        }

        nodes[hole] = node;
    }

    private static bool Before(in Node a, in Node b)
    {
        var c = decimal.Compare(a.Trigger, b.Trigger);
        return c > 0 || (c == 0 && a.Seq < b.Seq);
    }

    private readonly record struct Node(decimal Trigger, long Seq, long Key);

    private enum Settled : byte
    {
        /// <summary>Not looked at since the firing began.</summary>
        No,

        /// <summary>Was live when the firing began: out of the dictionary, to be handed out.</summary>
        Fired,

        /// <summary>Was dead already: skipped.</summary>
        Dead,
    }

    /// <summary>Pop order: the order of <see cref="Before"/>, which is total (sequences are unique).</summary>
    private readonly struct PopOrder : IComparer<Node>
    {
        public int Compare(Node a, Node b)
        {
            var c = decimal.Compare(b.Trigger, a.Trigger);
            return c != 0 ? c : a.Seq.CompareTo(b.Seq);
        }
    }
}
