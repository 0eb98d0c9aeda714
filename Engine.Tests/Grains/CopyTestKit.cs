using Engine.Grains;
using Engine.Grains.CopyTrading;
using Engine.Grains.Events;
using Engine.Grains.Instruments;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;

namespace Engine.Tests.Grains;

/// <summary>
/// Copy trading over one or more shards, delivering signals as the runtime does: every signal a
/// command or a price produces is delivered (per follower shard, with the followers the strategy names)
/// and acknowledged before the call returns. Each shard keeps its own journal for replay checks.
/// </summary>
internal sealed class CopyTestKit
{
    public const string Btc = GrainTestKit.Btc;
    public const string Eth = GrainTestKit.Eth;

    private readonly Dictionary<AccountId, int> _shardOf = [];

    /// <param name="shards">How many shards; accounts are placed explicitly.</param>
    public CopyTestKit(int shards = 2, decimal slippage = 0m)
    {
        Shards = Enumerable.Range(0, shards).Select(_ => new ShardGrains(InstrumentCatalog.Default, new PaperVenue(slippage))).ToArray();
        Journals = Enumerable.Range(0, shards).Select(_ => new List<EngineEvent>()).ToArray();
    }

    public ShardGrains[] Shards { get; }
    public List<EngineEvent>[] Journals { get; }
    public DateTimeOffset Now { get; set; } = GrainTestKit.T0;

    /// <summary>Whether deliveries happen (off: signals stay in the outbox, as when the engine dies after the leader's commit).</summary>
    public bool Deliver { get; set; } = true;

    public ShardGrains ShardOf(AccountId account) => Shards[_shardOf[account]];

    /// <summary>Opens a funded account on <paramref name="shard"/> with <paramref name="manual"/> in its manual bucket.</summary>
    public AccountId Open(string name, int shard, decimal wallet = 100_000m, decimal manual = 10_000m)
    {
        var id = new AccountId(name);
        _shardOf[id] = shard;
        Must(new OpenAccount(name, "hash-" + name) { Account = id });
        Must(new Deposit(wallet) { Account = id });
        if (manual > 0m) Must(new TransferFunds(ManualOf(id), TransferDirection.In, manual) { Account = id });
        return id;
    }

    public BucketId ManualOf(AccountId account) => ShardOf(account).FindAccount(account)!.ManualBucket;

    public CommandResult Execute(Command command)
    {
        var shard = _shardOf[command.Account];
        var result = Shards[shard].Execute(command, Now);
        Journals[shard].AddRange(result.Events);
        Pump(shard, result.Events);
        return result;
    }

    public object? Must(Command command)
    {
        var result = Execute(command);
        Assert.True(result.Succeeded, $"{command.GetType().Name} was rejected: {result.Rejection}");
        return result.Value;
    }

    public StrategyId Publish(AccountId leader, BucketId? bucket = null, string name = "trend") =>
        (StrategyId)Must(new PublishStrategy(bucket ?? ManualOf(leader), name, null) { Account = leader })!;

    public static CopySettings Settings(CopySizingMode mode = CopySizingMode.FixedRatio, decimal? ratio = 1m, decimal? notional = null,
        InsufficientMarginPolicy onInsufficientMargin = InsufficientMarginPolicy.ScaleDown) =>
        new() { Mode = mode, Ratio = mode == CopySizingMode.FixedRatio ? ratio : null, Notional = notional, OnInsufficientMargin = onInsufficientMargin };

    /// <summary>Subscribes as the runtime does: the subscription on the follower's shard, then the follower on the leader's.</summary>
    public Subscription Subscribe(AccountId follower, StrategyId strategy, decimal allocation, CopySettings settings)
    {
        var leader = strategy.Leader!.Value;
        var id = (SubscriptionId)Must(new Subscribe(strategy, leader, allocation, settings, null, null) { Account = follower })!;
        Must(new AddCopyFollower(strategy, id, follower, _shardOf[follower], allocation) { Account = leader });
        return ShardOf(follower).FindSubscription(follower, id)!;
    }

    public long Market(AccountId account, OrderSide side, decimal quantity, string symbol = Btc, BucketId? bucket = null) =>
        (long)Must(new PlaceOrder(GrainTestKit.Market(side, quantity, symbol) with { Bucket = bucket }, null) { Account = account })!;

    /// <summary>Sets last, index and mark of <paramref name="symbol"/> in every shard.</summary>
    public void Price(decimal price, string symbol = Btc)
    {
        for (var i = 0; i < Shards.Length; i++)
        {
            var output = new List<EngineEvent>();
            Shards[i].OnPrices(symbol, new Quote(price, price, price), Now, output);
            Journals[i].AddRange(output);
            Pump(i, output);
        }
    }

    /// <summary>Sets the price in one shard only (as when a follower shard has seen a newer tick than the leader's).</summary>
    public void PriceIn(int shard, decimal price, string symbol = Btc)
    {
        var output = new List<EngineEvent>();
        Shards[shard].OnPrices(symbol, new Quote(price, price, price), Now, output);
        Journals[shard].AddRange(output);
        Pump(shard, output);
    }

    /// <summary>Delivers (again) every signal still in the outboxes: what the runtime does after a restart.</summary>
    public void Redeliver()
    {
        for (var i = 0; i < Shards.Length; i++)
            foreach (var strategy in Shards[i].Strategies.ToArray())
                foreach (var sequence in strategy.Outbox.Keys.ToArray())
                    DeliverSignal(i, strategy.Id, strategy.Outbox[sequence].Signal);
    }

    private void Pump(int shard, IReadOnlyList<EngineEvent> events)
    {
        if (!Deliver) return;
        foreach (var e in events.OfType<CopySignalEmitted>().ToArray()) DeliverSignal(shard, e.Strategy, e.Signal);
    }

    private void DeliverSignal(int leaderShard, StrategyId strategy, CopySignal signal)
    {
        foreach (var (target, subs) in Shards[leaderShard].CopyDeliveries(strategy, signal.Sequence))
        {
            var output = new List<EngineEvent>();
            Shards[target].OnCopySignal(strategy, signal, subs, Now, output);
            Journals[target].AddRange(output);
            var ack = Shards[leaderShard].Execute(new AcknowledgeCopySignal(strategy, signal.Sequence, target) { Account = strategy.Leader!.Value }, Now);
            Journals[leaderShard].AddRange(ack.Events);
            Pump(target, output);
        }
    }

    public Bucket BucketOf(AccountId account, BucketId bucket) => ShardOf(account).FindAccount(account)!.FindBucket(bucket)!;

    public Position? PositionOf(AccountId account, BucketId bucket, string symbol = Btc) => BucketOf(account, bucket).Positions.GetValueOrDefault(symbol);

    public decimal Held(AccountId account, BucketId bucket, string symbol = Btc) => PositionOf(account, bucket, symbol)?.Quantity ?? 0m;

    public CopyOutcomeRecorded LastOutcome(Subscription sub) => sub.Outcomes.Last();

    /// <summary>Replays each shard's journal into a fresh shard and compares fingerprints; then a snapshot round trip.</summary>
    public void AssertReplayAndSnapshotMatch()
    {
        for (var i = 0; i < Shards.Length; i++)
        {
            var fresh = new ShardGrains(InstrumentCatalog.Default, new PaperVenue(0m), Shards[i].Options);
            foreach (var e in Journals[i])
            {
                // Through the binary journal codec, as recovery reads it.
                fresh.Apply(Engine.Silo.Serialization.JournalEventCodec.Deserialize(Engine.Silo.Serialization.JournalEventCodec.Serialize(e)));
            }

            Assert.Equal(Shards[i].Fingerprint(), fresh.Fingerprint());
            using var stream = new MemoryStream();
            Engine.Silo.Persistence.ShardSnapshotCodec.Write(stream, Shards[i].Capture());
            stream.Position = 0;
            var restored = ShardGrains.Restore(Engine.Silo.Persistence.ShardSnapshotCodec.Read(stream), InstrumentCatalog.Default, Shards[i].Venue, Shards[i].Options);
            Assert.Equal(Shards[i].Fingerprint(), restored.Fingerprint());
        }
    }
}
