using System.Collections;
using Engine.Grains.Common;
using Engine.Grains.Events;

namespace Engine.Grains.Accounts;

/// <summary>
/// An account's recent events with their sequence numbers, oldest first, up to a bound. The numbers
/// are consecutive, so only the newest is stored: a slot costs one reference, not a reference and a
/// number (a million resting orders keep a million orderAccepted events here).
/// </summary>
public sealed class AccountEventLog : IReadOnlyCollection<SequencedEvent>
{
    private readonly BoundedLog<AccountEvent> _events = new();
    private long _last;

    public int Count => _events.Count;

    /// <summary>Appends <paramref name="e"/>, whose sequence must follow the previous one's.</summary>
    /// <exception cref="InvalidOperationException">The sequence does not follow on (a domain bug).</exception>
    public void Add(SequencedEvent e, int bound)
    {
        if (_events.Count > 0 && e.Sequence != _last + 1)
            throw new InvalidOperationException($"event {e.Sequence} does not follow event {_last}");
        _events.Add(e.Event, bound);
        _last = e.Sequence;
    }

    public IEnumerator<SequencedEvent> GetEnumerator()
    {
        var sequence = _last - _events.Count;
        foreach (var e in _events) yield return new SequencedEvent(++sequence, e);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
