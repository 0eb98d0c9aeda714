using System.Collections.Concurrent;
using System.Threading.Channels;
using Engine.Grains;
using Engine.Grains.Accounts;

namespace Engine.Silo.Runtime;

/// <summary>Live subscribers of accounts' committed events (the events endpoint's stream).</summary>
public sealed class AccountEventHub
{
    private readonly ConcurrentDictionary<AccountId, ConcurrentDictionary<Channel<SequencedEvent>, byte>> _subscribers = new();

    /// <summary>Subscribes before reading history, so nothing committed in between is missed (dedupe by sequence).</summary>
    public Subscription Subscribe(AccountId account)
    {
        var channel = Channel.CreateBounded<SequencedEvent>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });
        _subscribers.GetOrAdd(account, _ => new())[channel] = 0;
        return new Subscription(channel.Reader, () =>
        {
            if (_subscribers.TryGetValue(account, out var set)) set.TryRemove(channel, out _);
        });
    }

    internal void Publish(IReadOnlyList<SequencedEvent> events)
    {
        if (_subscribers.IsEmpty) return;
        foreach (var e in events)
            if (_subscribers.TryGetValue(e.Event.Account, out var set))
                foreach (var channel in set.Keys)
                    channel.Writer.TryWrite(e);
    }

    public sealed class Subscription(ChannelReader<SequencedEvent> reader, Action dispose) : IDisposable
    {
        public ChannelReader<SequencedEvent> Reader { get; } = reader;

        public void Dispose() => dispose();
    }
}
