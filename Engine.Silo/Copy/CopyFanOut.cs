using System.Collections.Concurrent;
using System.Diagnostics;
using Engine.Grains;
using Engine.Grains.CopyTrading;
using Engine.Grains.Events;
using Engine.Silo.Runtime;
using Engine.Silo.Telemetry;

namespace Engine.Silo.Copy;

/// <summary>One journaled signal on its way to one follower shard, with the followers there that get it.</summary>
internal sealed record CopyDelivery(int LeaderShard, StrategyId Strategy, CopySignal Signal, int TargetShard, SubscriptionId[] Subscriptions, long StartedAt);

/// <summary>
/// Moves copy signals between shards. A leader's shard journals a signal with the fill it mirrors (the
/// outbox); once that batch is durable, one work item per follower shard carries the signal there;
/// once the follower shard's outcomes are durable, an acknowledgment goes back and is journaled by the
/// leader's shard. A crash anywhere in between leaves the signal in the outbox, and recovery delivers it
/// again; followers that already recorded an outcome ignore it. Nothing here is shared between shard
/// loops except these messages.
/// </summary>
public sealed class CopyFanOut
{
    private readonly ConcurrentDictionary<(StrategyId, long), Tracker> _inFlight = new();
    private readonly CopyOptions _options;
    private ShardHost[] _shards = [];

    internal CopyFanOut(CopyOptions options) => _options = options;

    /// <summary>
    /// Raised (on a thread pool thread) when every follower shard of a signal has its outcomes durable:
    /// the signal, its follower count and the time from the leader's fill to the last outcome.
    /// </summary>
    public event Action<StrategyId, long, int, TimeSpan>? SignalCompleted;

    internal void Attach(ShardHost[] shards) => _shards = shards;

    /// <summary>On the leader's loop, after its batch ran: the deliveries of the signals the batch journaled.</summary>
    internal void Collect(ShardGrains grains, int shard, List<EngineEvent> events, List<CopyDelivery> into)
    {
        long started = 0;
        foreach (var e in events)
        {
            if (e is not CopySignalEmitted emitted || emitted.Shards.Length == 0) continue;
            if (started == 0) started = Stopwatch.GetTimestamp();
            foreach (var (target, subs) in grains.CopyDeliveries(emitted.Strategy, emitted.Signal.Sequence))
                into.Add(new CopyDelivery(shard, emitted.Strategy, emitted.Signal, target, subs, started));
        }
    }

    /// <summary>After the leader's batch is durable: posts each delivery to its follower shard.</summary>
    internal void Deliver(IReadOnlyList<CopyDelivery> deliveries)
    {
        if (_options.HoldDeliveries) return;
        for (var i = 0; i < deliveries.Count; i++)
        {
            var d = deliveries[i];
            var tracker = _inFlight.GetOrAdd((d.Strategy, d.Signal.Sequence), _ => new Tracker(d.StartedAt));
            Interlocked.Increment(ref tracker.Remaining);
        }

        foreach (var d in deliveries) _shards[d.TargetShard].Post(new CopyDeliveryWork(this, d));
    }

    /// <summary>A follower shard's outcomes for a delivery are durable (or failed: then the signal stays in the outbox).</summary>
    private void Delivered(CopyDelivery d, int followers, Exception? failure)
    {
        if (failure is not null) return;
        if (!_options.HoldAcknowledgments) _shards[d.LeaderShard].Post(new CopyAckWork(d));
        if (!_inFlight.TryGetValue((d.Strategy, d.Signal.Sequence), out var tracker)) return;
        Interlocked.Add(ref tracker.Followers, followers);
        if (Interlocked.Decrement(ref tracker.Remaining) != 0) return;
        _inFlight.TryRemove((d.Strategy, d.Signal.Sequence), out _);
        var elapsed = Stopwatch.GetElapsedTime(tracker.StartedAt);
        EngineTelemetry.CopyFanOutLatency.Record(elapsed.TotalSeconds);
        SignalCompleted?.Invoke(d.Strategy, d.Signal.Sequence, tracker.Followers, elapsed);
    }

    /// <summary>
    /// After recovery, before the engine serves: every signal still in an outbox goes again to the
    /// follower shards that did not acknowledge it, oldest first per strategy.
    /// </summary>
    internal async Task RedeliverAsync()
    {
        var pending = await Task.WhenAll(_shards.Select(shard => shard.QueryAsync(g =>
        {
            var list = new List<CopyDelivery>();
            foreach (var strategy in g.Strategies)
                foreach (var sequence in strategy.Outbox.Keys)
                    foreach (var (target, subs) in g.CopyDeliveries(strategy.Id, sequence))
                        list.Add(new CopyDelivery(shard.Index, strategy.Id, strategy.Outbox[sequence].Signal, target, subs, Stopwatch.GetTimestamp()));
            return list;
        })));
        foreach (var list in pending) Deliver(list);
    }

    private sealed class Tracker(long startedAt)
    {
        public readonly long StartedAt = startedAt;
        public int Remaining;
        public int Followers;
    }

    /// <summary>A signal mirrored by the followers of one shard; completes when their outcomes are durable.</summary>
    private sealed class CopyDeliveryWork(CopyFanOut owner, CopyDelivery delivery) : ShardWork
    {
        // Outcomes by (outcome, reason), tallied only while a meter listens: a handful of kinds per signal.
        private List<(CopyOutcome Outcome, string? Reason, int Count)>? _outcomes;
        private int _followers;

        public override void Run(ShardGrains grains, DateTimeOffset now, List<EngineEvent> events)
        {
            var start = events.Count;
            _followers += grains.OnCopySignal(delivery.Strategy, delivery.Signal, delivery.Subscriptions, now, events);
            if (!EngineTelemetry.CopyOutcomes.Enabled) return;
            _outcomes ??= [];
            for (var i = start; i < events.Count; i++)
                if (events[i] is CopyOutcomeRecorded o) Tally(o.Outcome, o.Reason);
        }

        private void Tally(CopyOutcome outcome, string? reason)
        {
            for (var k = 0; k < _outcomes!.Count; k++)
            {
                var (o, r, n) = _outcomes[k];
                if (o != outcome || !string.Equals(r, reason, StringComparison.Ordinal)) continue;
                _outcomes[k] = (o, r, n + 1);
                return;
            }

            _outcomes.Add((outcome, reason, 1));
        }

        public override void Complete(Exception? failure)
        {
            if (failure is null && _outcomes is not null)
                foreach (var (outcome, reason, count) in _outcomes)
                    EngineTelemetry.CopyOutcomes.Add(count, new KeyValuePair<string, object?>("outcome", Name(outcome)), new KeyValuePair<string, object?>("reason", reason ?? ""));
            owner.Delivered(delivery, _followers, failure);
        }

        private static string Name(CopyOutcome o) => o switch
        {
            CopyOutcome.Copied => "copied",
            CopyOutcome.ScaledDown => "scaledDown",
            _ => "skipped",
        };
    }

    /// <summary>The leader's shard journals that a follower shard has a signal's outcomes.</summary>
    private sealed class CopyAckWork(CopyDelivery delivery) : ShardWork
    {
        public override void Run(ShardGrains grains, DateTimeOffset now, List<EngineEvent> events) =>
            grains.Execute(new AcknowledgeCopySignal(delivery.Strategy, delivery.Signal.Sequence, delivery.TargetShard) { Account = delivery.Strategy.Leader!.Value }, now, events);

        public override void Complete(Exception? failure)
        {
        }
    }
}
