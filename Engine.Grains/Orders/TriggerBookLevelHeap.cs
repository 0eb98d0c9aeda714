namespace Engine.Grains.Orders;

/// <summary>
/// Level triggers of one direction as a max-heap in "fires when x &lt;= trigger" form (the book
/// negates Rise prices). Ties pop in insertion order, so popping yields exactly the documented firing
/// order.
/// </summary>
/// <remarks>
/// <para>
/// Removal is lazy: the entry store is the source of truth, and a node is live only while the store
/// maps its key to this heap's entry with the node's sequence number. Outside a firing the top is kept
/// live so that a price firing nothing is one comparison against <c>_nodes[0]</c>; dead nodes below the
/// top are dropped when they surface or when a compaction runs after they outnumber the live ones.
/// Nodes carry the trigger inline so sifting never chases a pointer.
/// </para>
/// <para>
/// A firing hands the reached nodes out one by one, so that the caller acts on the first of them at
/// once. Popping them first would cost a sift-down through the whole height per node, a walk and a
/// sort of all of them k decimal comparisons each, and looking each up in the store a cache miss or
/// two: together tens of microseconds for the hundred-odd nodes a large tick reaches. Instead the
/// firing walks the subtree of reached nodes (those with trigger &gt;= x hang from the root, a parent
/// is never below its child) best first, with a small heap of the positions whose turn may come next:
/// the first key is the root, each further one costs a few comparisons and the children of one node,
/// in adjacent cache lines. While a firing is open the array is frozen so that those positions hold:
/// added nodes wait aside until <see cref="CompleteFire"/>, and removals only count the dead.
/// </para>
/// <para>
/// Whether a reached node was live when the firing began is settled when its turn comes, not looked up
/// at the start. That gives the same answer: until a node is settled nothing can have changed its
/// key's entry without settling it (the book calls <see cref="SettleIfFired"/> before it reads,
/// removes or replaces an entry of this heap, which lists the rest of the reached subtree the first
/// time it is needed), and sequence numbers are never reused. <see cref="CompleteFire"/> settles what
/// is left, puts the added nodes in and pops the dead ones off the top: the heap then holds the same
/// live nodes under a live top as popping them as they fired would have left.
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

    // The open firing: its price in this heap's form, and the first sequence issued after it began
    // (an entry from then on cannot have been reached).
    private bool _firing;
    private decimal _x;
    private long _firstNewSeq;

    // Reached positions whose turn may come next, as a binary heap in pop order; their subtrees are
    // not walked yet.
    private int[] _frontier = [];
    private int _frontierCount;

    // Once listed (the first time the book asks about a reached key), the reached nodes not handed out
    // yet, in pop order, with what is known of each; _bySeq (built when first needed) finds one by
    // sequence number.
    private bool _listed;
    private Node[] _fired = [];
    private Settled[] _settled = [];
    private int _firedCount;
    private int _firedNext;
    private long _firedMinSeq;
    private long _firedMaxSeq;
    private long[] _bySeq = [];
    private int[] _bySeqAt = [];
    private bool _bySeqBuilt;
    private int _bySeqFrom;
    private int[] _stack = [];

    // Nodes added while the firing is open, put in the array when it completes.
    private Node[] _parked = [];
    private int _parkedCount;

    public TriggerLevelHeap(ITriggerEntryStore store, int book, TriggerEntryKind kind)
    {
        _store = store;
        _book = book;
        _kind = kind;
    }

    /// <summary>Live nodes; while a firing is open, after <see cref="SettleAll"/> only.</summary>
    public int LiveCount => _count + _parkedCount - _dead;

    public void Add(decimal trigger, long seq, long key)
    {
        var node = new Node(trigger, seq, key);
        if (_firing)
        {
            Append(ref _parked, ref _parkedCount, node);
            return;
        }

        if (_count == _nodes.Length)
        {
            Array.Resize(ref _nodes, Math.Max(MinCapacity, _nodes.Length * 2));
        }

        SiftUp(_count++, node);
    }

    public bool WouldFire(decimal x) => _count != 0 && _nodes[0].Trigger >= x;

    /// <summary>Called after the book has already dropped the key from the store.</summary>
    public void OnRemoved(long key, long seq)
    {
        _dead++;
        if (_firing)
        {
            // The array is frozen while a firing is open; CompleteFire tidies up.
            return;
        }

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

        for (var i = 0; i < _parkedCount; i++)
        {
            if (!checkEach || IsLive(_parked[i]))
            {
                entries.Add(new TriggerBookEntry(_parked[i].Key, _parked[i].Seq, _kind));
            }
        }
    }

    /// <summary>
    /// Opens a firing at x: every node with trigger &gt;= x that is live now fires, and
    /// <see cref="TryTakeFired"/> hands the keys out in pop order. Until <see cref="CompleteFire"/> the
    /// array is frozen and the top may be dead, so <see cref="WouldFire"/> must not be asked; adding and
    /// removing entries in between is fine, provided the book settles a key of this heap
    /// (<see cref="SettleIfFired"/>) before it reads, removes or replaces its entry.
    /// </summary>
    /// <param name="firstNewSeq">The next sequence the store will issue.</param>
    public void BeginFire(decimal x, long firstNewSeq)
    {
        _firing = true;
        _x = x;
        _firstNewSeq = firstNewSeq;
        _listed = false;
        _frontierCount = 0;
        if (_count != 0 && _nodes[0].Trigger >= x)
        {
            PushFrontier(0);
        }
    }

    /// <summary>The next key the open firing fired, in pop order; false when none is left.</summary>
    public bool TryTakeFired(out long key)
    {
        if (_listed)
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
        }
        else
        {
            while (_frontierCount != 0)
            {
                var at = PopFrontier();
                var first = (at << 2) + 1;
                var end = Math.Min(first + 4, _count);
                for (var child = first; child < end; child++)
                {
                    if (_nodes[child].Trigger >= _x)
                    {
                        PushFrontier(child);
                    }
                }

                if (TakeIfLive(_nodes[at]))
                {
                    key = _nodes[at].Key;
                    return true;
                }
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
        if (!_firing || seq >= _firstNewSeq)
        {
            return false;
        }

        ListRest();
        if (_firedNext == _firedCount || seq < _firedMinSeq || seq > _firedMaxSeq)
        {
            return false;
        }

        if (!_bySeqBuilt)
        {
            BuildBySeq();
        }

        var i = Array.BinarySearch(_bySeq, _bySeqFrom, _firedCount - _bySeqFrom, seq);
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
        if (!_firing)
        {
            return;
        }

        ListRest();
        for (var at = _firedNext; at < _firedCount; at++)
        {
            if (_settled[at] == Settled.No)
            {
                _settled[at] = TakeIfLive(_fired[at]) ? Settled.Fired : Settled.Dead;
            }
        }
    }

    /// <summary>
    /// Ends the open firing: what was not handed out stays fired, the nodes added meanwhile join the
    /// heap, and the dead nodes are popped off the top, so the top is live again.
    /// </summary>
    public void CompleteFire()
    {
        if (!_firing)
        {
            return;
        }

        if (_listed || _frontierCount != 0)
        {
            SettleAll();
        }

        _firing = false;
        _listed = false;
        _frontierCount = 0;
        _firedCount = 0;
        _firedNext = 0;
        for (var i = 0; i < _parkedCount; i++)
        {
            Add(_parked[i].Trigger, _parked[i].Seq, _parked[i].Key);
        }

        _parkedCount = 0;

        // Give back what a burst grew only once the heap itself has shrunk, so alternating large and small
        // bursts do not reallocate every time.
        var live = LiveCount;
        if (_fired.Length > 1024 && _fired.Length > 4 * live)
        {
            _fired = [];
            _settled = [];
            _bySeq = [];
            _bySeqAt = [];
        }

        if (_stack.Length > 1024 && _stack.Length > 4 * live)
        {
            _stack = [];
        }

        if (_frontier.Length > 1024 && _frontier.Length > 4 * live)
        {
            _frontier = [];
        }

        if (_parked.Length > 1024 && _parked.Length > 4 * live)
        {
            _parked = [];
        }

        DropDeadTop();
        if (_dead > _count - _dead)
        {
            Compact();
        }
    }

    /// <summary>
    /// Lists the reached nodes not handed out yet, in pop order: the frontier and what hangs from it,
    /// sorted. From then on the firing hands out from the list.
    /// </summary>
    private void ListRest()
    {
        if (_listed)
        {
            return;
        }

        var nodes = _nodes;
        var count = _count;
        var x = _x;
        var stack = _stack;
        var depth = 0;
        var fired = 0;
        var minSeq = long.MaxValue;
        var maxSeq = long.MinValue;
        for (var i = 0; i < _frontierCount; i++)
        {
            Push(ref stack, ref depth, _frontier[i]);
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
        _frontierCount = 0;
        _firedCount = fired;
        _firedNext = 0;
        _firedMinSeq = minSeq;
        _firedMaxSeq = maxSeq;
        _bySeqBuilt = false;
        _listed = true;
        new Span<Node>(_fired, 0, fired).Sort(default(PopOrder));
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

        // What was handed out before is settled: only the rest, from _firedNext on, is looked up.
        _bySeqFrom = _firedNext;
        for (var i = _bySeqFrom; i < _firedCount; i++)
        {
            _bySeq[i] = _fired[i].Seq;
            _bySeqAt[i] = i;
        }

        Array.Sort(_bySeq, _bySeqAt, _bySeqFrom, _firedCount - _bySeqFrom);
        _bySeqBuilt = true;
    }

    private void PushFrontier(int at)
    {
        if (_frontierCount == _frontier.Length)
        {
            Array.Resize(ref _frontier, Math.Max(MinCapacity, _frontier.Length * 2));
        }

        var frontier = _frontier;
        var hole = _frontierCount++;
        while (hole > 0)
        {
            var parent = (hole - 1) >> 1;
            if (!Before(_nodes[at], _nodes[frontier[parent]]))
            {
                break;
            }

            frontier[hole] = frontier[parent];
            hole = parent;
        }

        frontier[hole] = at;
    }

    private int PopFrontier()
    {
        var frontier = _frontier;
        var top = frontier[0];
        var last = frontier[--_frontierCount];
        var count = _frontierCount;
        var hole = 0;
        while (true)
        {
            var child = (hole << 1) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && Before(_nodes[frontier[child + 1]], _nodes[frontier[child]]))
            {
                child++;
            }

            if (!Before(_nodes[frontier[child]], _nodes[last]))
            {
                break;
            }

            frontier[hole] = frontier[child];
            hole = child;
        }

        if (count != 0)
        {
            frontier[hole] = last;
        }

        return top;
    }

    private static void Append(ref Node[] nodes, ref int count, in Node node)
    {
        if (count == nodes.Length)
        {
            Array.Resize(ref nodes, Math.Max(MinCapacity, nodes.Length * 2));
        }

        nodes[count++] = node;
    }

    private static void Push(ref int[] stack, ref int depth, int at)
    {
        if (depth == stack.Length)
        {
            Array.Resize(ref stack, Math.Max(MinCapacity, stack.Length * 2));
        }

        stack[depth++] = at;
    }

    private bool IsLive(in Node node) => _store.TryGet(node.Key, out var entry) && entry.Book == _book && Is(entry, node);

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
