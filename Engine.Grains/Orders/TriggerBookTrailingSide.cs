using System.Numerics;

namespace Engine.Grains.Orders;

/// <summary>
/// The active trailing stops of one direction, in "the extreme is the highest x seen, an entry fires
/// when x &lt;= its trigger" form (the book negates Rise prices, so a trailing buy's rate multiplier
/// 1 + r stays 1 + r on the negated extreme — <c>rateWidens</c> — while a trailing sell's is 1 - r).
/// </summary>
/// <remarks>
/// <para>
/// Entries that share an extreme form a group, and a price moves whole groups rather than entries:
/// every group whose extreme is below the price merges into one group at the price. Groups are only
/// ever created by <see cref="Add"/>, so merging is amortized O(1) per price plus O(log g) heap work,
/// where g is the number of groups. Live groups have distinct extremes (a dictionary finds the group
/// an added entry joins), so g is at most the number of distinct extremes.
/// </para>
/// <para>
/// Inside a group every entry shares the extreme, so with the extreme positive (negative on the
/// negated Rise side) the smallest callback has the highest trigger. Each group therefore keeps its
/// rate entries and its amount entries in two pairing heaps ordered by (callback, insertion), whose
/// roots give the group's effective trigger. Pairing heaps meld in O(1) and delete any node in
/// O(log n) amortized, so merges and removals need no per-group arrays.
/// </para>
/// <para>
/// Groups sit in two indexed binary heaps: a min-heap by extreme (which groups a rising price
/// merges) and a max-heap by effective trigger (which groups a price fires). Each entry records its
/// group; a merge relabels the smaller group's entries, which over an entry's lifetime costs
/// O(log n) amortized because the group it lands in at least doubles.
/// </para>
/// <para>
/// Nodes and groups are structs in arrays with free lists: no per-entry allocation, and removal is
/// eager, so nothing is left behind to compact.
/// </para>
/// <para>
/// Firing is driven by the caller one entry at a time (<see cref="TryFireNext"/>), and an entry is
/// popped only after it has been handed out, so the caller acts on the first fired entry before any
/// pop: a pop walks all the children of the root, which after merges and activations can be hundreds
/// of nodes far apart in memory. Entries added while the book is in such an evaluation are parked
/// outside the groups and join them when it completes (<see cref="Unpark"/>): a price never fires
/// what arrived after it.
/// </para>
/// </remarks>
internal sealed class TrailingTriggerSide
{
    private const int None = -1;

    // The sequence of a free node: a live one's is never negative.
    private const long FreeSeq = -1;
    private const int MinCapacity = 16;

    private readonly ITriggerEntryStore _store;
    private readonly int _book;
    private readonly bool _rateWidens;

    private TrailNode[] _nodes = [];
    private int _nodeTop;
    private int _freeNode = None;
    private int _count;

    private TrailGroup[] _groups = [];
    private int _groupTop;
    private int _freeGroup = None;

    private int[] _byExtreme = [];
    private int _extremeCount;
    private int[] _byTrigger = [];
    private int _triggerCount;
    private int[] _atTop = [];

    // The root handed out by TryFireNext and not popped yet; None when there is none.
    private int _handedOut = None;

    // The largest callback operands added so far, for IsExact: bits and scale of the rate multipliers
    // (0 bits: no rate entry yet), and of the amounts the scale (-1: none yet) and bits less four per
    // decimal place.
    private int _rateBits;
    private int _rateScale;
    private int _amountScale = -1;
    private int _amountMagnitude = int.MinValue;

    private int[] _stack = [];

    // Entries added while an evaluation is open (see Parking), with the extreme they will join.
    private (int Slot, decimal Extreme)[] _parked = [];
    private int _parkedCount;

    // Live groups by extreme, so that an added entry joins the group at its extreme; without it a
    // snapshot restore, which adds entries with arbitrary extremes in arbitrary order, would make one
    // group per entry. Every live group is registered except possibly the lowest, which FindGroup
    // checks directly: a price that moves only the lowest group — the common case — then touches no
    // dictionary. Before another group becomes the lowest, the current lowest is registered.
    private readonly Dictionary<decimal, int> _registered = new();

    public TrailingTriggerSide(ITriggerEntryStore store, int book, bool rateWidens)
    {
        _store = store;
        _book = book;
        _rateWidens = rateWidens;
    }

    public int Count => _count;

    public int GroupCount => _extremeCount;

    /// <summary>
    /// Appends the entries' keys and sequences (in no order): every node in use, parked ones included,
    /// except one handed out and not popped yet.
    /// </summary>
    public void AddLiveTo(List<TriggerBookEntry> entries, TriggerEntryKind kind)
    {
        for (var slot = 0; slot < _nodeTop; slot++)
        {
            if (_nodes[slot].Seq != FreeSeq && slot != _handedOut)
            {
                entries.Add(new TriggerBookEntry(_nodes[slot].Key, _nodes[slot].Seq, kind));
            }
        }
    }

    /// <summary>While set, added entries wait outside the groups until <see cref="Unpark"/>.</summary>
    public bool Parking { get; set; }

    public decimal ExtremeOf(int slot)
    {
        var group = _nodes[slot].Group;
        return group != None ? _groups[group].Extreme : _parked[ParkedIndex(slot)].Extreme;
    }

    public int Add(long key, long seq, decimal callback, bool isAmount, decimal extreme)
    {
        NoteCallback(callback, isAmount);
        if (Parking)
        {
            var parked = NewNode(key, seq, callback, isAmount, None);
            if (_parkedCount == _parked.Length)
            {
                Array.Resize(ref _parked, Math.Max(MinCapacity, _parked.Length * 2));
            }

            _parked[_parkedCount++] = (parked, extreme);
            _count++;
            return parked;
        }

        var slot = NewNode(key, seq, callback, isAmount, None);
        Insert(slot, extreme);
        _count++;
        return slot;
    }

    /// <summary>Puts the entries parked during an evaluation into their groups, in the order they were added.</summary>
    public void Unpark()
    {
        Parking = false;
        if (_parkedCount == 0)
        {
            return;
        }

        for (var i = 0; i < _parkedCount; i++)
        {
            Insert(_parked[i].Slot, _parked[i].Extreme);
        }

        _parkedCount = 0;
        if (_parked.Length > 1024 && _parked.Length > 4 * _count)
        {
            _parked = [];
        }
    }

    private int ParkedIndex(int slot)
    {
        for (var i = 0; i < _parkedCount; i++)
        {
            if (_parked[i].Slot == slot)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"trailing node {slot} is neither in a group nor parked");
    }

    private void Insert(int slot, decimal extreme)
    {
        var isAmount = _nodes[slot].IsAmount;
        var group = FindGroup(extreme);
        var isNewGroup = group == None;
        if (isNewGroup)
        {
            if (_extremeCount != 0 && extreme < _groups[_byExtreme[0]].Extreme)
            {
                Register(_byExtreme[0]);
            }

            group = NewGroup(extreme);
        }

        _nodes[slot].Group = group;
        ref var g = ref _groups[group];
        ref var root = ref isAmount ? ref g.AmountRoot : ref g.RateRoot;
        root = Meld(root, slot);
        g.Size++;

        if (isNewGroup)
        {
            g.Trigger = TriggerOf(group);
            PushExtreme(group);
            PushTrigger(group);
        }
        else if (root == slot)
        {
            UpdateTrigger(group);
        }
    }

    public void Remove(int slot)
    {
        var group = _nodes[slot].Group;
        if (group == None)
        {
            var i = ParkedIndex(slot);
            _parked[i] = _parked[--_parkedCount];
            FreeNode(slot);
            _count--;
            return;
        }

        ref var g = ref _groups[group];
        ref var root = ref _nodes[slot].IsAmount ? ref g.AmountRoot : ref g.RateRoot;
        var wasRoot = root == slot;
        if (wasRoot)
        {
            root = Combine(_nodes[slot].Child);
        }
        else
        {
            Cut(slot);
            root = Meld(root, Combine(_nodes[slot].Child));
        }

        FreeNode(slot);
        _count--;
        if (--g.Size == 0)
        {
            DropGroup(group);
        }
        else if (wasRoot)
        {
            UpdateTrigger(group);
        }
    }

    /// <summary>Raises every extreme below <paramref name="x"/> to it; true when any moved.</summary>
    public bool MoveExtremes(decimal x)
    {
        if (_extremeCount == 0 || _groups[_byExtreme[0]].Extreme >= x)
        {
            return false;
        }

        var group = _byExtreme[0];
        Unregister(group);
        if (IsAbove(1, x) && IsAbove(2, x))
        {
            // Only the lowest group is below x and none sits at x: raised to x it is still the lowest.
            _groups[group].Extreme = x;
        }
        else
        {
            RemoveExtremeAt(0);

            // Groups below x move to x; a group already at x joins them so extremes stay distinct.
            while (_extremeCount != 0 && _groups[_byExtreme[0]].Extreme <= x)
            {
                var other = _byExtreme[0];
                Unregister(other);
                RemoveExtremeAt(0);
                group = Merge(group, other);
            }

            // Every group left is above x, so the survivor goes in as the lowest and stays unregistered.
            _groups[group].Extreme = x;
            PushExtreme(group);
        }

        UpdateTrigger(group);
        return true;
    }

    public bool WouldFire(decimal x) => _triggerCount != 0 && _groups[_byTrigger[0]].Trigger >= x;

    /// <summary>
    /// The next fired key, in firing order (trigger descending, then insertion order); false when
    /// nothing left has a trigger &gt;= x. The entry leaves the book when it is handed out.
    /// </summary>
    /// <remarks>
    /// The next entry is the earliest inserted among the roots at the highest trigger, provided no two
    /// different callbacks of a heap give that trigger: then every entry of a heap at that trigger has
    /// the root's callback and comes after the root. Different callbacks give different triggers
    /// whenever the trigger expression is computed exactly, which <see cref="IsExact"/> checks from the
    /// sizes of the operands. The root is handed out before it is popped: the pop (a pass over its
    /// children, which can be many after merges and activations) waits for the next call or for
    /// <see cref="EndFiring"/>. Where rounding could make different callbacks equal, every entry at the
    /// highest trigger is popped first and they are handed out in insertion order from
    /// <paramref name="fired"/>.
    /// </remarks>
    public bool TryFireNext(decimal x, TrailingFiredBuffer fired, out long key)
    {
        if (fired.TryTake(out key, _count))
        {
            return true;
        }

        PopHandedOut();
        if (!WouldFire(x))
        {
            return false;
        }

        var top = _groups[_byTrigger[0]].Trigger;
        var atTop = GroupsAt(top);
        var exact = true;
        for (var i = 0; i < atTop && exact; i++)
        {
            exact = IsExact(_groups[_atTop[i]].Extreme);
        }

        if (!exact)
        {
            FireTop(top, atTop, fired);
            fired.Sort();
            return fired.TryTake(out key, _count);
        }

        var best = None;
        for (var i = 0; i < atTop; i++)
        {
            ref var g = ref _groups[_atTop[i]];
            best = Earlier(best, g.RateRoot, isAmount: false, g.Extreme, top);
            best = Earlier(best, g.AmountRoot, isAmount: true, g.Extreme, top);
        }

        key = _nodes[best].Key;
        _store.TryRemove(key, _book, out _);
        _count--;
        _handedOut = best;
        return true;
    }

    /// <summary>Ends a firing: pops the root handed out last. Entries popped but not handed out stay fired.</summary>
    public void EndFiring()
    {
        PopHandedOut();
    }

    /// <summary>Of a candidate and a heap root, the one inserted first among those at the trigger.</summary>
    private int Earlier(int best, int root, bool isAmount, decimal extreme, decimal trigger)
    {
        if (root == None || TriggerOf(isAmount, extreme, _nodes[root].Callback) != trigger)
        {
            return best;
        }

        return best == None || _nodes[root].Seq < _nodes[best].Seq ? root : best;
    }

    /// <summary>
    /// Pops the root handed out by the last call. Until then it stays the root of its heap: nothing is
    /// added to the groups while a firing is open, and removing another entry only melds that entry's
    /// descendants, which come after it, back under it.
    /// </summary>
    private void PopHandedOut()
    {
        var slot = _handedOut;
        if (slot == None)
        {
            return;
        }

        _handedOut = None;
        ref var node = ref _nodes[slot];
        var group = node.Group;
        ref var g = ref _groups[group];
        ref var root = ref node.IsAmount ? ref g.AmountRoot : ref g.RateRoot;
        root = Combine(node.Child);
        FreeNode(slot);
        if (--g.Size == 0)
        {
            DropGroup(group);
        }
        else
        {
            UpdateTrigger(group);
        }
    }

    /// <summary>
    /// Lists in <c>_atTop</c> the groups whose trigger is <paramref name="top"/>, the highest: they hang
    /// from the root of the max-heap by trigger. Breadth first, with the list itself as the queue; it
    /// needs at most one place per group, which its capacity (that of the group arrays) guarantees.
    /// </summary>
    private int GroupsAt(decimal top)
    {
        var atTop = _atTop;
        var count = 1;
        atTop[0] = 0;
        for (var i = 0; i < count; i++)
        {
            var first = (atTop[i] << 1) + 1;
            for (var child = first; child < first + 2 && child < _triggerCount; child++)
            {
                if (_groups[_byTrigger[child]].Trigger == top)
                {
                    atTop[count++] = child;
                }
            }
        }

        for (var i = 0; i < count; i++)
        {
            atTop[i] = _byTrigger[atTop[i]];
        }

        return count;
    }

    /// <summary>Removes every entry at the highest trigger, in the groups listed by <see cref="GroupsAt"/>.</summary>
    private void FireTop(decimal top, int count, TrailingFiredBuffer fired)
    {
        var atTop = _atTop;
        for (var i = 0; i < count; i++)
        {
            var group = atTop[i];
            var extreme = _groups[group].Extreme;
            FireHeap(group, isAmount: false, extreme, top, fired);
            FireHeap(group, isAmount: true, extreme, top, fired);
            if (_groups[group].Size == 0)
            {
                DropGroup(group);
            }
            else
            {
                UpdateTrigger(group);
            }
        }
    }

    private void FireHeap(int group, bool isAmount, decimal extreme, decimal x, TrailingFiredBuffer fired)
    {
        ref var g = ref _groups[group];
        ref var root = ref isAmount ? ref g.AmountRoot : ref g.RateRoot;
        while (root != None)
        {
            var slot = root;
            ref var node = ref _nodes[slot];
            var trigger = TriggerOf(isAmount, extreme, node.Callback);
            if (trigger < x)
            {
                return;
            }

            fired.Add(trigger, node.Seq, node.Key);
            _store.TryRemove(node.Key, _book, out _);
            root = Combine(node.Child);
            FreeNode(slot);
            g.Size--;
            _count--;
        }
    }

    /// <summary>
    /// Whether every trigger this side can compute from <paramref name="extreme"/> is exact, so that
    /// different callbacks give different triggers. A product of decimals is exact when the product of
    /// the mantissas fits in 96 bits and the scales add up to at most 28 (and the rate multiplier is
    /// exact, see <see cref="NoteCallback"/>); a difference is exact when both operands, brought to the
    /// larger scale (each decimal digit at most four bits), and the result fit. The sizes of the callbacks are the largest ever added to this side: it only errs
    /// toward "maybe not", which costs speed, never order.
    /// </summary>
    private bool IsExact(decimal extreme)
    {
        var bits = MantissaBits(extreme);
        var scale = extreme.Scale;
        if (_rateBits != 0 && (bits + _rateBits > 96 || scale + _rateScale > 28))
        {
            return false;
        }

        if (_amountScale < 0)
        {
            return true;
        }

        var aligned = Math.Max(scale, _amountScale);
        return aligned <= 28 && Math.Max(bits - (4 * scale), _amountMagnitude) + (4 * aligned) + 1 <= 96;
    }

    /// <summary>Records the size of a callback's operand for <see cref="IsExact"/>.</summary>
    private void NoteCallback(decimal callback, bool isAmount)
    {
        if (isAmount)
        {
            _amountScale = Math.Max(_amountScale, callback.Scale);
            _amountMagnitude = Math.Max(_amountMagnitude, MantissaBits(callback) - (4 * callback.Scale));
        }
        else
        {
            // 1 +- rate is exact too when the rate's mantissa leaves a bit for the carry (1 at any scale
            // up to 28 fits in 94 bits); otherwise two rates could round to one multiplier.
            var multiplier = _rateWidens ? 1m + callback : 1m - callback;
            var bits = MantissaBits(callback) < 96 ? MantissaBits(multiplier) : 97;
            _rateBits = Math.Max(_rateBits, bits);
            _rateScale = Math.Max(_rateScale, multiplier.Scale);
        }
    }

    private static int MantissaBits(decimal value)
    {
        Span<int> parts = stackalloc int[4];
        decimal.GetBits(value, parts);
        if (parts[2] != 0)
        {
            return 96 - BitOperations.LeadingZeroCount((uint)parts[2]);
        }

        var low = ((ulong)(uint)parts[1] << 32) | (uint)parts[0];
        return 64 - BitOperations.LeadingZeroCount(low);
    }

    // The exact expressions of the contract (extreme * (1 - rate), extreme - amount, and the mirrored
    // ones on negated prices), so a trigger compares equal to what a caller computes by hand.
    private decimal TriggerOf(bool isAmount, decimal extreme, decimal callback) =>
        isAmount ? extreme - callback : extreme * (_rateWidens ? 1m + callback : 1m - callback);

    private decimal TriggerOf(int group)
    {
        ref var g = ref _groups[group];
        var trigger = decimal.MinValue;
        if (g.RateRoot != None)
        {
            trigger = TriggerOf(isAmount: false, g.Extreme, _nodes[g.RateRoot].Callback);
        }

        if (g.AmountRoot != None)
        {
            var byAmount = TriggerOf(isAmount: true, g.Extreme, _nodes[g.AmountRoot].Callback);
            if (byAmount > trigger)
            {
                trigger = byAmount;
            }
        }

        return trigger;
    }

    private void UpdateTrigger(int group)
    {
        ref var g = ref _groups[group];
        var old = g.Trigger;
        g.Trigger = TriggerOf(group);
        if (g.Trigger > old)
        {
            SiftUpTrigger(g.TriggerPos);
        }
        else if (g.Trigger < old)
        {
            SiftDownTrigger(g.TriggerPos);
        }
    }

    private bool IsAbove(int extremePos, decimal x) =>
        extremePos >= _extremeCount || _groups[_byExtreme[extremePos]].Extreme > x;

    private int FindGroup(decimal extreme)
    {
        // Live activations add at the latest price, which is where the lowest group sits: skip hashing.
        if (_extremeCount != 0 && _groups[_byExtreme[0]].Extreme == extreme)
        {
            return _byExtreme[0];
        }

        return _registered.TryGetValue(extreme, out var group) ? group : None;
    }

    private void Register(int group)
    {
        ref var g = ref _groups[group];
        if (!g.Registered)
        {
            _registered.Add(g.Extreme, group);
            g.Registered = true;
        }
    }

    private void Unregister(int group)
    {
        ref var g = ref _groups[group];
        if (g.Registered)
        {
            _registered.Remove(g.Extreme);
            g.Registered = false;
        }
    }

    /// <summary>Merges two groups already taken out of the extreme heap; returns the survivor.</summary>
    private int Merge(int a, int b)
    {
        var big = _groups[a].Size >= _groups[b].Size ? a : b;
        var small = big == a ? b : a;
        ref var s = ref _groups[small];
        ref var t = ref _groups[big];
        Relabel(s.RateRoot, big);
        Relabel(s.AmountRoot, big);
        t.RateRoot = Meld(t.RateRoot, s.RateRoot);
        t.AmountRoot = Meld(t.AmountRoot, s.AmountRoot);
        t.Size += s.Size;
        RemoveTriggerAt(s.TriggerPos);
        FreeGroup(small);
        return big;
    }

    private void Relabel(int root, int group)
    {
        if (root == None)
        {
            return;
        }

        var nodes = _nodes;
        var depth = 0;
        Push(ref depth, root);
        while (depth != 0)
        {
            var slot = _stack[--depth];
            while (slot != None)
            {
                nodes[slot].Group = group;
                if (nodes[slot].Child != None)
                {
                    Push(ref depth, nodes[slot].Child);
                }

                slot = nodes[slot].Sibling;
            }
        }
    }

    private void Push(ref int depth, int slot)
    {
        if (depth == _stack.Length)
        {
            Array.Resize(ref _stack, Math.Max(MinCapacity, _stack.Length * 2));
        }

        _stack[depth++] = slot;
    }

    private void DropGroup(int group)
    {
        Unregister(group);
        RemoveTriggerAt(_groups[group].TriggerPos);
        RemoveExtremeAt(_groups[group].ExtremePos);
        FreeGroup(group);
    }

    // ---- pairing heaps of nodes, ordered by (callback, insertion) ----

    private bool Less(int a, int b)
    {
        var c = decimal.Compare(_nodes[a].Callback, _nodes[b].Callback);
        return c < 0 || (c == 0 && _nodes[a].Seq < _nodes[b].Seq);
    }

    /// <summary>Melds two heap roots (each without siblings or parent); either may be None.</summary>
    private int Meld(int a, int b)
    {
        if (a == None)
        {
            return b;
        }

        return b == None ? a : Link(a, b);
    }

    /// <summary>Makes the later of two roots the first child of the earlier; returns the earlier.</summary>
    private int Link(int a, int b)
    {
        if (Less(b, a))
        {
            (a, b) = (b, a);
        }

        var nodes = _nodes;
        var child = nodes[a].Child;
        nodes[b].Sibling = child;
        if (child != None)
        {
            nodes[child].Prev = b;
        }

        nodes[b].Prev = a;
        nodes[a].Child = b;
        return a;
    }

    /// <summary>
    /// Standard two-pass pairing of a sibling list into one root: link neighbours left to right,
    /// then fold the pairs right to left. The pairs list reuses the Sibling links, so nothing is
    /// allocated.
    /// </summary>
    private int Combine(int first)
    {
        if (first == None)
        {
            return None;
        }

        var nodes = _nodes;
        var pairs = None;
        var current = first;
        while (current != None)
        {
            var a = current;
            var b = nodes[a].Sibling;
            int pair;
            if (b == None)
            {
                current = None;
                pair = a;
            }
            else
            {
                current = nodes[b].Sibling;
                pair = Link(a, b);
            }

            nodes[pair].Sibling = pairs;
            pairs = pair;
        }

        var result = pairs;
        var rest = nodes[result].Sibling;
        nodes[result].Sibling = None;
        while (rest != None)
        {
            var next = nodes[rest].Sibling;
            nodes[rest].Sibling = None;
            result = Link(result, rest);
            rest = next;
        }

        nodes[result].Prev = None;
        nodes[result].Sibling = None;
        return result;
    }

    /// <summary>Detaches a non-root node, with its subtree, from its parent or left sibling.</summary>
    private void Cut(int slot)
    {
        var nodes = _nodes;
        var prev = nodes[slot].Prev;
        var sibling = nodes[slot].Sibling;
        if (nodes[prev].Child == slot)
        {
            nodes[prev].Child = sibling;
        }
        else
        {
            nodes[prev].Sibling = sibling;
        }

        if (sibling != None)
        {
            nodes[sibling].Prev = prev;
        }

        nodes[slot].Prev = None;
        nodes[slot].Sibling = None;
    }

    private int NewNode(long key, long seq, decimal callback, bool isAmount, int group)
    {
        int slot;
        if (_freeNode != None)
        {
            slot = _freeNode;
            _freeNode = _nodes[slot].Sibling;
        }
        else
        {
            if (_nodeTop == _nodes.Length)
            {
                Array.Resize(ref _nodes, Math.Max(MinCapacity, _nodes.Length * 2));
            }

            slot = _nodeTop++;
        }

        _nodes[slot] = new TrailNode
        {
            Callback = callback,
            Seq = seq,
            Key = key,
            Child = None,
            Sibling = None,
            Prev = None,
            Group = group,
            IsAmount = isAmount,
        };
        return slot;
    }

    private void FreeNode(int slot)
    {
        _nodes[slot].Seq = FreeSeq;
        _nodes[slot].Sibling = _freeNode;
        _freeNode = slot;
    }

    // ---- groups ----

    private int NewGroup(decimal extreme)
    {
        int group;
        if (_freeGroup != None)
        {
            group = _freeGroup;
            _freeGroup = _groups[group].RateRoot;
        }
        else
        {
            if (_groupTop == _groups.Length)
            {
                var capacity = Math.Max(MinCapacity, _groups.Length * 2);
                Array.Resize(ref _groups, capacity);
                Array.Resize(ref _byExtreme, capacity);
                Array.Resize(ref _byTrigger, capacity);
                Array.Resize(ref _atTop, capacity);
            }

            group = _groupTop++;
        }

        _groups[group] = new TrailGroup
        {
            Extreme = extreme,
            RateRoot = None,
            AmountRoot = None,
            ExtremePos = None,
            TriggerPos = None,
            Registered = true,
        };
        _registered.Add(extreme, group);
        return group;
    }

    private void FreeGroup(int group)
    {
        ref var g = ref _groups[group];
        g.Size = 0;
        g.AmountRoot = None;
        g.RateRoot = _freeGroup;
        _freeGroup = group;
    }

    // ---- min-heap of groups by extreme (indexed: each group knows its position) ----

    private void PushExtreme(int group)
    {
        _byExtreme[_extremeCount] = group;
        SiftUpExtreme(_extremeCount++);
    }

    private void RemoveExtremeAt(int pos)
    {
        var last = _byExtreme[--_extremeCount];
        if (pos == _extremeCount)
        {
            return;
        }

        _byExtreme[pos] = last;
        _groups[last].ExtremePos = pos;
        SiftUpExtreme(pos);
        SiftDownExtreme(_groups[last].ExtremePos);
    }

    private void SiftUpExtreme(int pos)
    {
        var heap = _byExtreme;
        var group = heap[pos];
        var key = _groups[group].Extreme;
        while (pos > 0)
        {
            var parent = (pos - 1) >> 1;
            var above = heap[parent];
            if (_groups[above].Extreme <= key)
            {
                break;
            }

            heap[pos] = above;
            _groups[above].ExtremePos = pos;
            pos = parent;
        }

        heap[pos] = group;
        _groups[group].ExtremePos = pos;
    }

    private void SiftDownExtreme(int pos)
    {
        var heap = _byExtreme;
        var count = _extremeCount;
        var group = heap[pos];
        var key = _groups[group].Extreme;
        while (true)
        {
            var child = (pos << 1) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && _groups[heap[child + 1]].Extreme < _groups[heap[child]].Extreme)
            {
                child++;
            }

            var below = heap[child];
            if (_groups[below].Extreme >= key)
            {
                break;
            }

            heap[pos] = below;
            _groups[below].ExtremePos = pos;
            pos = child;
        }

        heap[pos] = group;
        _groups[group].ExtremePos = pos;
    }

    // ---- max-heap of groups by effective trigger (indexed) ----

    private void PushTrigger(int group)
    {
        _byTrigger[_triggerCount] = group;
        SiftUpTrigger(_triggerCount++);
    }

    private void RemoveTriggerAt(int pos)
    {
        var last = _byTrigger[--_triggerCount];
        if (pos == _triggerCount)
        {
            return;
        }

        _byTrigger[pos] = last;
        _groups[last].TriggerPos = pos;
        SiftUpTrigger(pos);
        SiftDownTrigger(_groups[last].TriggerPos);
    }

    private void SiftUpTrigger(int pos)
    {
        var heap = _byTrigger;
        var group = heap[pos];
        var key = _groups[group].Trigger;
        while (pos > 0)
        {
            var parent = (pos - 1) >> 1;
            var above = heap[parent];
            if (_groups[above].Trigger >= key)
            {
                break;
            }

            heap[pos] = above;
            _groups[above].TriggerPos = pos;
            pos = parent;
        }

        heap[pos] = group;
        _groups[group].TriggerPos = pos;
    }

    private void SiftDownTrigger(int pos)
    {
        var heap = _byTrigger;
        var count = _triggerCount;
        var group = heap[pos];
        var key = _groups[group].Trigger;
        while (true)
        {
            var child = (pos << 1) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && _groups[heap[child + 1]].Trigger > _groups[heap[child]].Trigger)
            {
                child++;
            }

            var below = heap[child];
            if (_groups[below].Trigger <= key)
            {
                break;
            }

            heap[pos] = below;
            _groups[below].TriggerPos = pos;
            pos = child;
        }

        heap[pos] = group;
        _groups[group].TriggerPos = pos;
    }

    /// <summary>
    /// A trailing entry: a pairing-heap node. Prev is the parent for a first child, else the left
    /// sibling. A free node links to the next free one through Sibling.
    /// </summary>
    private struct TrailNode
    {
        public decimal Callback;
        public long Seq;
        public long Key;
        public int Child;
        public int Sibling;
        public int Prev;

        // Group index shifted left one bit, the low bit saying amount-based, to keep the node at 48 bytes.
        private int _groupAndKind;

        public int Group
        {
            readonly get => _groupAndKind >> 1;
            set => _groupAndKind = (value << 1) | (_groupAndKind & 1);
        }

        public bool IsAmount
        {
            readonly get => (_groupAndKind & 1) != 0;
            set => _groupAndKind = (_groupAndKind & ~1) | (value ? 1 : 0);
        }
    }

    /// <summary>
    /// Entries sharing one extreme. A free group links to the next free one through RateRoot.
    /// Registered: present in the extreme dictionary.
    /// </summary>
    private struct TrailGroup
    {
        public decimal Extreme;
        public decimal Trigger;
        public int RateRoot;
        public int AmountRoot;
        public int Size;
        public int ExtremePos;
        public int TriggerPos;
        public bool Registered;
    }
}
