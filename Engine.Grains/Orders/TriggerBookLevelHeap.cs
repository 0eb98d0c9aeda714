namespace Engine.Grains.Orders;

/// <summary>
/// Level triggers of one direction as a max-heap in "fires when x &lt;= trigger" form (the book
/// negates Rise prices). Ties pop in insertion order, so popping yields exactly the documented firing
/// order.
/// </summary>
/// <remarks>
/// Removal is lazy: the book's key dictionary is the source of truth, and a node is live only while
/// the dictionary maps its key to the node's sequence number. The top is always kept live so that a
/// price firing nothing is one comparison against <c>_nodes[0]</c>; dead nodes below the top are
/// dropped when they surface or when a compaction runs after they outnumber the live ones.
/// Nodes carry the trigger inline so sifting never chases a pointer.
/// </remarks>
internal sealed class TriggerLevelHeap
{
    private const int MinCapacity = 16;

    private readonly Dictionary<long, TriggerEntry> _entries;
    private Node[] _nodes = [];
    private int _count;
    private int _dead;

    public TriggerLevelHeap(Dictionary<long, TriggerEntry> entries)
    {
        _entries = entries;
    }

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

    /// <summary>Pops every node with trigger &gt;= x, appending live ones to <paramref name="fired"/>.</summary>
    public void Fire(decimal x, List<long> fired)
    {
        while (_count != 0 && _nodes[0].Trigger >= x)
        {
            var top = _nodes[0];
            PopTop();

            // One dictionary operation per fired node: remove first, and put back in the rare case that
            // the key was reused and this node is a leftover of its earlier life.
            if (_entries.Remove(top.Key, out var entry))
            {
                if (entry.Seq == top.Seq)
                {
                    fired.Add(top.Key);
                    continue;
                }

                _entries.Add(top.Key, entry);
            }

            _dead--;
        }

        DropDeadTop();
    }

    /// <summary>Called after the book has already dropped the key from its dictionary.</summary>
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

    private bool IsLive(in Node node) => _entries.TryGetValue(node.Key, out var entry) && entry.Seq == node.Seq;

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
}
