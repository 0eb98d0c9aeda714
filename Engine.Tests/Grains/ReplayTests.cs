using System.Text.Json;
using Engine.Grains;
using Engine.Grains.Events;
using Engine.Grains.Instruments;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Plans;
using Engine.Grains.Pricing;
using Engine.Grains.Risk;
using Engine.Silo.Persistence;
using Engine.Silo.Serialization;

namespace Engine.Tests.Grains;

/// <summary>
/// Decide, then apply: the journal of a random workload, replayed through JSON into an empty shard,
/// rebuilds exactly the live state; a snapshot taken anywhere plus the events after it does too; and a
/// shard restored from a snapshot decides exactly what the live one decides from then on.
/// </summary>
public sealed class ReplayTests
{
    private static readonly ShardOptions SmallHistories = new()
    {
        EventHistory = 40,
        FillHistory = 15,
        DoneOrderHistory = 25,
        ClientIdHistory = 12,
        // A narrow band, so that the random limits are clamped now and then.
        PriceBand = 0.012m,
        PriceBandPolicy = Engine.Grains.Risk.PriceBandPolicy.Clamp,
    };

    public static TheoryData<int, bool> Seeds() => new()
    {
        { 1, true },
        { 2, false },
        { 3, true },
        { 4, false },
        { 5, true },
    };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Apply_JournalOfRandomWorkloadThroughJson_RebuildsLiveState(int seed, bool smallHistories)
    {
        var options = smallHistories ? SmallHistories : new ShardOptions();
        var workload = new RandomWorkload(seed, options);
        workload.Run(batches: 1_500);

        var replayed = RandomWorkload.NewShard(options);
        foreach (var e in workload.Journal) replayed.Apply(JsonRoundTrip(e));

        AssertSameState(workload.Shard.Fingerprint(), replayed.Fingerprint());
        workload.AssertExercisedEverything();
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Restore_SnapshotAtRandomMidpointPlusLaterEvents_RebuildsLiveState(int seed, bool smallHistories)
    {
        var options = smallHistories ? SmallHistories : new ShardOptions();
        var workload = new RandomWorkload(seed, options);
        var midpoint = 300 + new Random(seed * 7919).Next(900);
        workload.Run(batches: midpoint);

        var bytes = Encode(workload.Shard.Capture());
        var cut = workload.Journal.Count;
        var liveAtCut = workload.Shard.Fingerprint();

        var restoredAtCut = Restore(bytes, options);
        AssertSameState(liveAtCut, restoredAtCut.Fingerprint());
        Assert.Equal(bytes, Encode(restoredAtCut.Capture()));

        // From here on the restored shard gets the same commands and prices as the live one, and must
        // decide exactly the same events (the books' firing order and the expiry queue included).
        var mirror = Restore(bytes, options);
        foreach (var symbol in RandomWorkload.Symbols) mirror.PrimeQuote(symbol, workload.Shard.QuoteOf(symbol));
        workload.Mirror = mirror;
        workload.Run(batches: 1_500 - midpoint);

        foreach (var e in workload.Journal.Skip(cut)) restoredAtCut.Apply(JsonRoundTrip(e));
        var live = workload.Shard.Fingerprint();
        AssertSameState(live, restoredAtCut.Fingerprint());
        AssertSameState(live, mirror.Fingerprint());
        Assert.True(workload.MirroredBatches > 0);
    }

    [Fact]
    public void Restore_ShardRebuiltByReplay_SnapshotsAndRestoresLikeTheLiveOne()
    {
        var workload = new RandomWorkload(11, SmallHistories);
        workload.Run(batches: 800);
        var replayed = RandomWorkload.NewShard(SmallHistories);
        foreach (var e in workload.Journal) replayed.Apply(e);

        var restored = Restore(Encode(replayed.Capture()), SmallHistories);

        AssertSameState(workload.Shard.Fingerprint(), restored.Fingerprint());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void Apply_ShardRecoveredFromTheJournalAlone_DecidesLikeTheLiveShard(int seed)
    {
        var workload = new RandomWorkload(seed, new ShardOptions());
        workload.Run(batches: 600);
        var recovered = RandomWorkload.NewShard(new ShardOptions());
        foreach (var e in workload.Journal) recovered.Apply(JsonRoundTrip(e));
        foreach (var symbol in RandomWorkload.Symbols) recovered.PrimeQuote(symbol, workload.Shard.QuoteOf(symbol));

        workload.Mirror = recovered;
        workload.Run(batches: 900);

        AssertSameState(workload.Shard.Fingerprint(), recovered.Fingerprint());
    }

    [Fact]
    public void Apply_AmendedTrailingStop_StaysInItsBookAndFires()
    {
        var shard = RandomWorkload.NewShard(new ShardOptions());
        var now = DateTimeOffset.Parse("2025-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var a = new AccountId("a");
        var events = new List<EngineEvent>();
        shard.OnPrices("BTC-USDT", new Quote(60_000m, 60_000m, 60_000m), now, events);
        shard.Execute(new OpenAccount("a", "h") { Account = a }, now);
        shard.Execute(new Deposit(10_000m) { Account = a }, now);
        shard.Execute(new PlaceOrder(new OrderRequest { Symbol = "BTC-USDT", Side = OrderSide.Buy, Type = OrderType.Market, Quantity = 0.01m }, null) { Account = a }, now);
        var placed = shard.Execute(new PlaceOrder(new OrderRequest
        {
            Symbol = "BTC-USDT", Side = OrderSide.Sell, Type = OrderType.TrailingStop, Quantity = 0.01m, CallbackRate = 0.01m, ReduceOnly = true,
        }, null) { Account = a }, now);
        var number = (long)placed.Value!;
        Assert.Equal(OrderPhase.Trailing, shard.FindOrder(a, number)!.Phase);

        var amended = shard.Execute(new AmendOrder(number, null, null, null, 0.02m) { Account = a }, now);

        Assert.True(amended.Succeeded, amended.Rejection?.Detail);
        Assert.Equal(60_000m, shard.TrailingExtreme(shard.FindOrder(a, number)!));
        shard.OnPrices("BTC-USDT", new Quote(null, 58_700m, null), now, events);
        Assert.Contains(events, e => e is OrderTriggered t && t.Order == number);
    }

    [Fact]
    public void Restore_SnapshotThatContradictsItself_ThrowsInvalidData()
    {
        var workload = new RandomWorkload(12, SmallHistories);
        workload.Run(batches: 300);
        var snapshot = workload.Shard.Capture();
        Assert.NotEmpty(snapshot.Orders);

        var orphan = snapshot with { Accounts = snapshot.Accounts.Where(a => a.Id != snapshot.Orders[0].Account).ToArray() };
        var duplicate = snapshot with { Orders = [.. snapshot.Orders, snapshot.Orders[0]] };
        var badRank = snapshot with { IndexedOrders = snapshot.Orders.Length + 1 };

        foreach (var bad in new[] { orphan, duplicate, badRank })
            Assert.Throws<InvalidDataException>(() => ShardGrains.Restore(bad, RandomWorkload.Catalog, RandomWorkload.Venue, SmallHistories));
    }

    internal static readonly JsonSerializerOptions Json = new();

    /// <summary>
    /// Through JSON with the default options, then with EventJson (which leaves nulls out), then through
    /// the journal's binary records: each must give back an event that serializes exactly as the original.
    /// </summary>
    internal static EngineEvent JsonRoundTrip(EngineEvent e)
    {
        var json = JsonSerializer.Serialize(e, Json);
        var back = JsonSerializer.Deserialize<EngineEvent>(json, Json)!;
        Assert.Equal(e.GetType(), back.GetType());
        Assert.Equal(json, JsonSerializer.Serialize(back, Json));

        var asJson = EventJson.Deserialize(EventJson.Serialize(back));
        Assert.Equal(json, JsonSerializer.Serialize(asJson, Json));

        // The journal's own binary records must give back exactly the same event.
        var journaled = JournalEventCodec.Deserialize(JournalEventCodec.Serialize(asJson));
        Assert.Equal(json, JsonSerializer.Serialize(journaled, Json));
        return journaled;
    }

    internal static byte[] Encode(ShardSnapshot snapshot)
    {
        using var stream = new MemoryStream();
        ShardSnapshotCodec.Write(stream, snapshot);
        return stream.ToArray();
    }

    internal static ShardGrains Restore(byte[] bytes, ShardOptions options)
    {
        using var stream = new MemoryStream(bytes);
        return ShardGrains.Restore(ShardSnapshotCodec.Read(stream), RandomWorkload.Catalog, RandomWorkload.Venue, options);
    }

    /// <summary>Fingerprints are long: on a difference, show the first differing line, not the whole dump.</summary>
    internal static void AssertSameState(string expected, string actual)
    {
        if (expected == actual) return;
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var i = 0;
        while (i < e.Length && i < a.Length && e[i] == a[i]) i++;
        Assert.Fail($"state differs at fingerprint line {i + 1}:\n  expected: {(i < e.Length ? e[i] : "<end>")}\n  actual:   {(i < a.Length ? a[i] : "<end>")}");
    }
}

/// <summary>
/// A seeded random mix of commands, price ticks (random walks with gaps) and time, over several
/// accounts, buckets and symbols, batched as the shard loop batches them (one event list per batch,
/// trailing moves coalescing within it). Everything produced is kept in <see cref="Journal"/>.
/// With <see cref="Mirror"/> set, every step also runs on the mirror and each batch's events must be
/// identical.
/// </summary>
internal sealed class RandomWorkload
{
    public static readonly string[] Symbols = ["BTC-USDT", "ETH-USDT", "SOL-USDT"];
    public static readonly InstrumentCatalog Catalog = InstrumentCatalog.Default;
    public static readonly IExecutionVenue Venue = new PaperVenue(0.0005m);

    private static readonly string[] AccountNames = ["alice", "bob", "carol", "dave", "erin"];

    private readonly Random _rng;
    private readonly Dictionary<string, (decimal Index, decimal Mark, decimal Last)> _prices = new();
    private readonly List<(AccountId Account, string ClientId, PlaceOrder Command)> _placedWithClientId = [];
    private readonly List<(AccountId Account, RecordIdempotentResponse Command)> _idempotent = [];
    private int _clientIds;

    public RandomWorkload(int seed, ShardOptions options)
    {
        _rng = new Random(seed);
        Shard = NewShard(options);
        // Late in the day: the run crosses midnight, so daily loss limits roll over to a new day.
        Now = new DateTimeOffset(2025, 3, 1, 21, 30, 0, TimeSpan.Zero).AddMinutes(seed);
        _prices["BTC-USDT"] = (60_000m, 60_000m, 60_000m);
        _prices["ETH-USDT"] = (3_000m, 3_000m, 3_000m);
        _prices["SOL-USDT"] = (150m, 150m, 150m);
    }

    public ShardGrains Shard { get; }

    public ShardGrains? Mirror { get; set; }

    public DateTimeOffset Now { get; private set; }

    public List<EngineEvent> Journal { get; } = [];

    public int MirroredBatches { get; private set; }

    private List<AccountId> Accounts { get; } = [];

    public static ShardGrains NewShard(ShardOptions options) => new(Catalog, Venue, options);

    public void Run(int batches)
    {
        for (var b = 0; b < batches; b++)
        {
            var steps = new List<Action<ShardGrains, List<EngineEvent>>>();
            var size = 1 + _rng.Next(6);
            var batch = new List<EngineEvent>();
            for (var s = 0; s < size; s++)
            {
                var step = NextStep();
                step(Shard, batch);
                steps.Add(step);
            }

            if (Mirror is { } mirror)
            {
                var mirrored = new List<EngineEvent>();
                foreach (var step in steps) step(mirror, mirrored);
                var expected = batch.Select(e => JsonSerializer.Serialize(e, ReplayTests.Json)).ToList();
                var actual = mirrored.Select(e => JsonSerializer.Serialize(e, ReplayTests.Json)).ToList();
                if (!expected.SequenceEqual(actual))
                {
                    var i = 0;
                    while (i < expected.Count && i < actual.Count && expected[i] == actual[i]) i++;
                    Assert.Fail($"the restored shard decided differently in batch {MirroredBatches} at event {i}:\n  live:     {(i < expected.Count ? expected[i] : "<none>")}\n  restored: {(i < actual.Count ? actual[i] : "<none>")}");
                }

                MirroredBatches++;
            }

            Journal.AddRange(batch);
        }
    }

    public void AssertExercisedEverything()
    {
        int Count<T>(Func<T, bool>? where = null) where T : EngineEvent => Journal.OfType<T>().Count(e => where?.Invoke(e) ?? true);

        Assert.True(Count<OrderFilled>(f => f.Liquidity == Liquidity.Taker) > 0, "no taker fills");
        Assert.True(Count<OrderFilled>(f => f.Liquidity == Liquidity.Maker) > 0, "no maker fills");
        Assert.True(Count<OrderTriggered>() > 0, "no triggers");
        var types = Journal.OfType<OrderAccepted>().ToDictionary(a => a.Order.Number, a => a.Order.Type);
        Assert.True(Count<OrderTriggered>(t => types[t.Order] == OrderType.TrailingStop) > 0, "no trailing stop fired");
        Assert.True(Count<OrderFilled>(f => types[f.Order] == OrderType.TrailingStop) > 0, "no trailing stop filled");
        Assert.True(Count<OrderCancelled>(c => c.Reason == OrderReasons.User) > 0, "no user cancellations");
        Assert.True(Count<OrderCancelled>(c => c.Reason == OrderReasons.OcoSiblingTriggered) > 0, "no oco cancellations");
        Assert.True(Count<OrderCancelled>(c => c.Reason == OrderReasons.PositionClosed) > 0, "no exits cancelled with their position");
        Assert.True(Count<PositionLiquidated>() > 0, "no liquidations");
        Assert.True(Count<TrailingStopActivated>() > 0, "no trailing activations");
        Assert.True(Count<TrailingExtremesMoved>() > 0, "no trailing extremes moved");
        Assert.True(Count<OrderExpired>(x => x.Reason == OrderReasons.GtdExpired) > 0, "no gtd expiries");
        Assert.True(Count<OrderActivated>() > 0, "no children armed");
        Assert.True(Count<OrderAmended>() > 0, "no amendments");
        Assert.True(Count<OrderRejected>() > 0, "no rejected fires");
        Assert.True(Count<CommandRejected>() > 0, "no business rejections");
        foreach (var type in Enum.GetValues<OrderListType>())
            Assert.True(Count<OrderListAccepted>(l => l.ListType == type) > 0, $"no {type} list");
        Assert.True(Count<FundsTransferred>() > 0 && Count<LeverageSet>() > 0 && Count<BucketCreated>() > 0 && Count<FundsWithdrawn>() > 0);
        Assert.True(Count<IdempotentResponseRecorded>() > 0);
        foreach (var type in new[] { typeof(PlanCreated), typeof(PlanArmed), typeof(PlanArmSkipped), typeof(PlanDisarmed), typeof(PlanFlattened), typeof(PlanCompleted), typeof(PlanRescheduled), typeof(PlanCancelled) })
            Assert.True(Journal.Count(e => e.GetType() == type) > 0, $"no {type.Name}");
        // A flatten with a plan position to close (with the risk controls in the mix, some of these are
        // refused because a kill switch, a loss lock or a halt got there first; PlanTests cover the close).
        Assert.True(Count<PlanFlattened>(f => f.Quantity > 0m) > 0,
            $"no plan flattened a position ({string.Join(", ", Journal.OfType<PlanEvent>().GroupBy(e => e.GetType().Name).Select(g => $"{g.Key} {g.Count()}"))}; flatten reasons {string.Join(", ", Journal.OfType<PlanFlattened>().GroupBy(f => f.Reason ?? "-").Select(g => $"{g.Key} {g.Count()}"))})");
        Assert.True(Count<PlanArmSkipped>(s => s.Reason == PlanReasons.MissedArm) > 0 && Count<PlanArmSkipped>(s => s.Reason == PlanReasons.EventPassed) > 0);
        Assert.Contains(Shard.Plans, p => p.History.Any(h => h.Kind == PlanHistoryKind.OrderFilled && h.Role == PlanOrderRole.Entry));
        Assert.Contains(Shard.Plans, p => p.History.Any(h => h.Kind == PlanHistoryKind.OrderFilled && h.Role is PlanOrderRole.StopLoss or PlanOrderRole.TakeProfit));

        // Risk controls.
        Assert.True(Count<KillSwitchEngaged>(k => k.Bucket is null) > 0 && Count<KillSwitchEngaged>(k => k.Bucket is not null) > 0, "no kill switches of both scopes");
        Assert.True(Count<KillSwitchReleased>() > 0, "no kill switch released");
        Assert.True(Count<OrderCancelled>(c => c.Reason == OrderReasons.KillSwitch) > 0, "no orders cancelled by a kill switch");
        Assert.True(Count<CancelAllAfterTriggered>() > 0, "no dead man's switch fired");
        Assert.True(Count<OrderCancelled>(c => c.Reason == OrderReasons.CancelAllAfter) > 0, "no entries cancelled by a dead man's switch");
        Assert.True(Count<DailyLossLimitReached>() > 0, "no daily loss limit reached");
        Assert.True(Count<DailyLossLockReleased>() > 0, "no loss lock released");
        Assert.True(Count<BucketDayStarted>() > 0, "no new day for a limited bucket");
        Assert.True(Count<OrderCancelled>(c => c.Reason == OrderReasons.DailyLossLimit) > 0, "no orders cancelled by a daily loss limit");
        Assert.True(Count<SymbolHalted>() > 0 && Count<SymbolResumed>() > 0, "no halts and resumes");
        Assert.True(Count<TriggerConfirmationStarted>() > 0, "no trigger confirmations");
        Assert.True(Count<TriggerConfirmationFailed>() > 0, "no failed confirmations (wicks)");
        var confirmed = Journal.OfType<TriggerConfirmationStarted>().Select(c => c.Order).ToHashSet();
        Assert.True(Count<OrderTriggered>(t => confirmed.Contains(t.Order)) > 0, "no confirmed trigger fired");
        Assert.True(Count<OrderConvertedToMarket>() > 0, "no stop-limit fallback to market");
        Assert.True(Count<OrderCancelled>(c => c.Reason is OrderReasons.FallbackTimeout or OrderReasons.FallbackWorstPrice) > 0, "no stop-limit fallback cancelled");
    }

    /// <summary>
    /// A plan command: a new plan (now and then an invalid one), or a step of one of the account's plans
    /// (mostly its next pending step for its current occurrence, sometimes a repeated or stale one), or a cancel.
    /// The steps come at random times, so arms are early, on time, late (misfired) and after the event.
    /// </summary>
    private Command PlanCommand(AccountId account)
    {
        var plans = Shard.PlansOf(account);
        var open = plans.Where(p => !p.IsFinished).ToList();
        var roll = _rng.Next(100);
        if (plans.Count == 0 || roll < 20 || (open.Count == 0 && roll < 60)) return CreatePlan(account);
        var plan = open.Count > 0 && Maybe(0.85) ? Pick(open) : Pick(plans);
        if (roll < 30) return new CancelPlan(plan.Id) { Account = account };
        var step = plan.Status switch
        {
            PlanStatus.Scheduled when Maybe(0.8) => PlanStep.Arm,
            PlanStatus.Armed when Maybe(0.7) => Maybe(0.6) ? PlanStep.Disarm : PlanStep.Flatten,
            PlanStatus.Disarmed when Maybe(0.8) => PlanStep.Flatten,
            _ => Pick(Enum.GetValues<PlanStep>()),
        };
        var eventAt = Maybe(0.9) ? plan.EventAt : plan.EventAt.AddMinutes(-_rng.Next(1, 60));
        DateTimeOffset? next = plan.Spec.IsRecurring ? Later(eventAt, 10, 40) : null;
        return new RunPlanStep(plan.Id, step, eventAt, next) { Account = account };
    }

    private CreatePlan CreatePlan(AccountId account)
    {
        var symbol = Pick(Symbols);
        var instrument = Catalog.Find(symbol)!;
        var armBefore = TimeSpan.FromSeconds(_rng.Next(20, 120));
        var disarmAfter = TimeSpan.FromSeconds(_rng.Next(30, 300));
        var recurring = Maybe(0.4);
        var request = new PlanRequest
        {
            Name = $"plan-{_clientIds++}",
            Symbol = symbol,
            Bucket = Maybe(0.3) ? Pick(Buckets(account)) : null,
            EventAt = Now + armBefore + TimeSpan.FromSeconds(_rng.Next(5, 120)),
            Cron = recurring ? "0 0/30 * * * ?" : null,
            TimeZone = recurring ? "UTC" : null,
            ArmBefore = armBefore,
            DisarmAfter = disarmAfter,
            FlattenAfter = Maybe(0.6) ? disarmAfter + TimeSpan.FromSeconds(_rng.Next(1, 300)) : null,
            Entry = Pick(Enum.GetValues<PlanEntryType>()),
            EntryDistance = Math.Round(Fraction(0.0005, 0.004), 4),
            StopLossDistance = Math.Round(Fraction(0.002, 0.02), 4),
            TakeProfitDistance = Maybe(0.6) ? Math.Round(Fraction(0.003, 0.03), 4) : null,
            Misfire = Maybe(0.5) ? PlanMisfire.Skip : PlanMisfire.ArmLate,
        };
        request = Maybe(0.6)
            ? request with { RiskFraction = Math.Round(Fraction(0.005, 0.05), 3) }
            : request with { Quantity = Quantity(instrument, _prices[symbol].Index) };
        if (request.Bucket is null && Maybe(0.5)) request = request with { Allocation = Amount(300m, 3_000m) };
        if (Maybe(0.05)) request = request with { StopLossDistance = -0.01m };
        return new CreatePlan(request) { Account = account };
    }

    private DateTimeOffset Later(DateTimeOffset from, int minMinutes, int maxMinutes) => from.AddMinutes(_rng.Next(minMinutes, maxMinutes));

    private Action<ShardGrains, List<EngineEvent>> NextStep()
    {
        Now = Now.AddMilliseconds(_rng.Next(0, 4_000));
        var now = Now;
        if (Accounts.Count < 2 || (Accounts.Count < AccountNames.Length && _rng.Next(300) == 0)) return OpenAccount();

        if (_rng.Next(1000) < 45) return RiskStep();
        var roll = _rng.Next(1000);
        if (roll < 330) return Tick();
        if (roll < 360) return (s, o) => s.AdvanceTime(now, o);
        if (roll < 370)
        {
            Now = Now.AddSeconds(_rng.Next(30, 200));
            var later = Now;
            return (s, o) => s.AdvanceTime(later, o);
        }

        var account = Pick(Accounts);
        Command command = roll switch
        {
            < 550 => PlaceOrder(account),
            < 620 => PlanCommand(account),
            < 720 => PlaceList(account),
            < 790 => Amend(account),
            < 840 => Cancel(account),
            < 848 => new CancelOrders(Maybe(0.5) ? Pick(Symbols) : null, Maybe(0.3) ? Pick(Buckets(account)) : null) { Account = account },
            < 880 => ClosePosition(account),
            < 900 => new Deposit(Amount(100m, 5_000m)) { Account = account },
            < 910 => new Withdraw(Amount(10m, 2_000m)) { Account = account },
            < 940 => new TransferFunds(Pick(Buckets(account)), Maybe(0.5) ? TransferDirection.In : TransferDirection.Out, Amount(10m, 3_000m)) { Account = account },
            < 955 => new SetLeverage(Pick(Buckets(account)), Pick(Symbols), Pick(new[] { 1, 5, 10, 20, 25, 40, 50, 75, 200 })) { Account = account },
            < 965 => new CreateBucket($"b{_rng.Next(100)}", Amount(0m, 5_000m), Pick(new[] { BucketKind.Manual, BucketKind.Copy, BucketKind.Plan })) { Account = account },
            < 980 => Idempotent(account),
            < 990 => new Deposit(Maybe(0.5) ? -5m : 1m) { Account = Maybe(0.5) ? new AccountId("nobody") : account },
            _ => new PlaceOrder(new OrderRequest { Symbol = "DOGE-USDT", Side = OrderSide.Buy, Type = OrderType.Market, Quantity = 1m }, null) { Account = account },
        };
        return (s, o) => s.Execute(command, now, o);
    }

    private readonly HashSet<string> _halted = new(StringComparer.Ordinal);

    /// <summary>Kill switches, dead man's switches, daily loss limits and symbol halts.</summary>
    private Action<ShardGrains, List<EngineEvent>> RiskStep()
    {
        var now = Now;
        var roll = _rng.Next(100);
        if (roll < 22)
        {
            // Halts come from the runtime (breakers, operators): every shard gets the same call. Most
            // steps resume a halted symbol, so halts stay short and plans and orders get to trade.
            var symbol = _halted.Count > 0 && Maybe(0.7) ? Pick(_halted.Order(StringComparer.Ordinal).ToList()) : Pick(Symbols);
            if (_halted.Remove(symbol))
            {
                var resumeReason = Pick(new[] { HaltReasons.BreakerClosed, HaltReasons.Operator, HaltReasons.IndexRecovered });
                return (s, o) => s.SetSymbolHalt(symbol, null, resumeReason, now, o);
            }

            _halted.Add(symbol);
            var halt = new SymbolHalt(Pick(new[] { HaltReasons.PriceMove, HaltReasons.Operator, HaltReasons.IndexDegraded }), now,
                Maybe(0.5) ? now.AddSeconds(_rng.Next(5, 60)) : null);
            return (s, o) => s.SetSymbolHalt(symbol, halt, "", now, o);
        }

        if (Accounts.Count == 0) return Tick();
        // Kill switches and dead man's switches on the first account only: they cancel entries and close
        // positions, plans' among them, and the other accounts' plans must get to hold and flatten positions.
        var account = roll < 62 ? Accounts[0] : Pick(Accounts);
        var state = Shard.FindAccount(account)!;
        Command command = roll switch
        {
            < 30 => new EngageKillSwitch(Maybe(0.4) ? null : Pick(Buckets(account))) { Account = account },
            // Mostly what is on, so that trading goes on.
            < 50 => new ReleaseKillSwitch(state.KillSwitch && Maybe(0.8) ? null : state.Buckets.FirstOrDefault(b => b.KillSwitch)?.Id ?? Pick(Buckets(account))) { Account = account },
            < 62 => new SetCancelAllAfter(Maybe(0.2) ? 0 : Maybe(0.05) ? -3 : _rng.Next(5, 200)) { Account = account },
            // Not on plan buckets: a plan needs a bucket that can trade to hold and flatten a position.
            < 85 => new SetDailyLossLimit(Pick(TradingBuckets(account)), Maybe(0.15) ? null : Maybe(0.05) ? 0m : Amount(1m, 60m)) { Account = account },
            _ => new ReleaseDailyLossLock(state.Buckets.FirstOrDefault(b => b.LossLocked)?.Id ?? Pick(Buckets(account))) { Account = account },
        };
        return (s, o) => s.Execute(command, now, o);
    }

    private Action<ShardGrains, List<EngineEvent>> OpenAccount()
    {
        var id = new AccountId(AccountNames[Accounts.Count]);
        Accounts.Add(id);
        var now = Now;
        var commands = new Command[]
        {
            new OpenAccount(id.Value, "hash-" + id.Value) { Account = id },
            new Deposit(Amount(20_000m, 80_000m)) { Account = id },
            new CreateBucket("swing", Amount(2_000m, 10_000m)) { Account = id },
            new CreateBucket("scalp", Amount(1_000m, 5_000m), BucketKind.Copy) { Account = id },
            new SetLeverage(BucketId.For(id, 3), "BTC-USDT", 50) { Account = id },
            new SetLeverage(BucketId.For(id, 3), "ETH-USDT", 40) { Account = id },
        };
        return (s, o) =>
        {
            foreach (var c in commands) s.Execute(c, now, o);
        };
    }

    private Action<ShardGrains, List<EngineEvent>> Tick()
    {
        var symbol = Pick(Symbols);
        var instrument = Catalog.Find(symbol)!;
        var (index, mark, last) = _prices[symbol];
        var step = (decimal)((_rng.NextDouble() + _rng.NextDouble() + _rng.NextDouble() - 1.5) * 0.006);
        if (_rng.Next(25) == 0) step = (decimal)((_rng.NextDouble() * 0.06 + 0.02) * (_rng.Next(2) == 0 ? 1 : -1));
        var newIndex = Math.Max(instrument.TickSize * 100, instrument.RoundToTick(index * (1m + step)));
        var newMark = Math.Max(instrument.TickSize * 100, instrument.RoundToTick(mark + (newIndex - mark) * 0.6m));
        var newLast = Math.Max(instrument.TickSize * 100, instrument.RoundToTick(newIndex * (1m + (decimal)((_rng.NextDouble() - 0.5) * 0.002))));
        _prices[symbol] = (newIndex, newMark, newLast);
        var quote = _rng.Next(10) switch
        {
            0 => new Quote(newLast, null, null),
            1 => new Quote(null, newIndex, null),
            2 => new Quote(null, null, newMark),
            _ => new Quote(newLast, newIndex, newMark),
        };
        var now = Now;
        return (s, o) => s.OnPrices(symbol, quote, now, o);
    }

    private PlaceOrder PlaceOrder(AccountId account)
    {
        if (_placedWithClientId.Count > 0 && Maybe(0.04))
        {
            // The same request again (answered from the first) or the same client id for another one.
            var (owner, _, previous) = Pick(_placedWithClientId);
            return Maybe(0.5) ? previous : previous with { BodyHash = "other" };
        }

        var symbol = Pick(Symbols);
        var request = RandomOrder(symbol, Maybe(0.7) ? null : Pick(Buckets(account)));
        if (Maybe(0.2))
        {
            var cid = $"cid-{_clientIds++}";
            var command = new PlaceOrder(request with { ClientOrderId = cid }, "body-" + cid) { Account = account };
            _placedWithClientId.Add((account, cid, command));
            return command;
        }

        return new PlaceOrder(request, null) { Account = account };
    }

    private OrderRequest RandomOrder(string symbol, BucketId? bucket, bool allowMarket = true)
    {
        var instrument = Catalog.Find(symbol)!;
        var p = _prices[symbol].Index;
        var side = Maybe(0.5) ? OrderSide.Buy : OrderSide.Sell;
        var up = side == OrderSide.Buy ? 1m : -1m;
        var roll = _rng.Next(100);
        var type = roll switch
        {
            < 14 when allowMarket => OrderType.Market,
            < 38 => OrderType.Limit,
            < 53 => OrderType.Stop,
            < 63 => OrderType.StopLimit,
            < 72 => OrderType.TakeProfit,
            < 80 => OrderType.TakeProfitLimit,
            _ => OrderType.TrailingStop,
        };
        var request = new OrderRequest
        {
            Bucket = bucket,
            Symbol = symbol,
            Side = side,
            Type = type,
            Quantity = Quantity(instrument, p),
            TriggerBy = Pick(new[] { TriggerSource.Index, TriggerSource.Index, TriggerSource.Mark, TriggerSource.Last }),
            ReduceOnly = Maybe(0.15),
        };
        var wrongSide = Maybe(0.04) ? -1m : 1m;
        switch (type)
        {
            case OrderType.Limit:
                request = request with
                {
                    Price = Price(instrument, p * (1m - up * Fraction(-0.004, 0.02))),
                    TimeInForce = Pick(new[] { TimeInForce.Gtc, TimeInForce.Gtc, TimeInForce.Gtc, TimeInForce.Ioc, TimeInForce.Fok, TimeInForce.Gtd, TimeInForce.Gtd }),
                };
                if (request.TimeInForce == TimeInForce.Gtd) request = request with { ExpireAt = ExpiryTime() };
                break;
            case OrderType.Stop or OrderType.StopLimit:
            {
                var trigger = Price(instrument, p * (1m + wrongSide * up * Fraction(0.001, 0.03)));
                request = request with { TriggerPrice = trigger };
                if (type == OrderType.StopLimit) request = request with { Price = Price(instrument, trigger * (1m + up * Fraction(-0.002, 0.01))) };
                break;
            }

            case OrderType.TakeProfit or OrderType.TakeProfitLimit:
            {
                var trigger = Price(instrument, p * (1m - wrongSide * up * Fraction(0.001, 0.03)));
                request = request with { TriggerPrice = trigger };
                if (type == OrderType.TakeProfitLimit) request = request with { Price = Price(instrument, trigger * (1m - up * Fraction(-0.002, 0.01))) };
                break;
            }

            case OrderType.TrailingStop:
                request = Maybe(0.6)
                    ? request with { CallbackRate = Math.Round(Fraction(0.002, 0.03), 4) }
                    : request with { CallbackAmount = Price(instrument, p * Fraction(0.002, 0.02)) };
                if (Maybe(0.35)) request = request with { ActivationPrice = Price(instrument, p * (1m - up * Fraction(0.001, 0.02))) };
                break;
        }

        if (type != OrderType.Limit && Maybe(0.25)) request = request with { TimeInForce = TimeInForce.Gtd, ExpireAt = ExpiryTime() };
        if (type is OrderType.Stop or OrderType.TakeProfit && Maybe(0.1)) request = request with { ClosePosition = true, Quantity = null, ReduceOnly = false };
        if (Maybe(0.01)) request = request with { Quantity = 0.0000001m };
        if (type is OrderType.Stop or OrderType.StopLimit or OrderType.TakeProfit or OrderType.TakeProfitLimit && Maybe(0.5))
            request = request with { TriggerConfirmation = TimeSpan.FromMilliseconds(_rng.Next(500, 30_000)) };
        if (type is OrderType.StopLimit or OrderType.TakeProfitLimit && Maybe(0.8))
        {
            // Worst prices beyond the limit (on the side the order loses), sometimes wrongly on the other side.
            var limit = request.Price!.Value;
            var worse = side == OrderSide.Sell ? -1m : 1m;
            decimal? worst = Maybe(0.6) ? Price(instrument, limit * (1m + worse * Fraction(Maybe(0.05) ? -0.01 : 0.0005, 0.01))) : null;
            TimeSpan? after = worst is null || Maybe(0.5) ? TimeSpan.FromMilliseconds(_rng.Next(500, 20_000)) : null;
            request = request with { Fallback = new Engine.Grains.Risk.OrderFallback(after, worst, Maybe(0.5) ? Engine.Grains.Risk.FallbackAction.Market : Engine.Grains.Risk.FallbackAction.Cancel) };
        }

        return request;
    }

    private PlaceOrderList PlaceList(AccountId account)
    {
        var symbol = Pick(Symbols);
        var instrument = Catalog.Find(symbol)!;
        var p = _prices[symbol].Index;
        BucketId? bucket = Maybe(0.5) ? null : Pick(Buckets(account));
        var listType = Pick(Enum.GetValues<OrderListType>());
        var clientId = Maybe(0.2) ? $"list-{_clientIds++}" : null;
        OrderListRequest request;
        switch (listType)
        {
            case OrderListType.Oco:
            {
                var side = Maybe(0.5) ? OrderSide.Buy : OrderSide.Sell;
                var up = side == OrderSide.Buy ? 1m : -1m;
                var profit = Maybe(0.5)
                    ? new OrderRequest { Symbol = symbol, Side = side, Type = OrderType.Limit, Price = Price(instrument, p * (1m - up * Fraction(0.002, 0.02))) }
                    : new OrderRequest { Symbol = symbol, Side = side, Type = OrderType.TakeProfit, TriggerPrice = Price(instrument, p * (1m - up * Fraction(0.002, 0.02))) };
                var loss = _rng.Next(3) switch
                {
                    0 => new OrderRequest { Symbol = symbol, Side = side, Type = OrderType.Stop, TriggerPrice = Price(instrument, p * (1m + up * Fraction(0.002, 0.02))) },
                    1 => new OrderRequest { Symbol = symbol, Side = side, Type = OrderType.StopLimit, TriggerPrice = Price(instrument, p * (1m + up * 0.01m)), Price = Price(instrument, p * (1m + up * 0.012m)) },
                    _ => new OrderRequest { Symbol = symbol, Side = side, Type = OrderType.TrailingStop, CallbackRate = 0.005m },
                };
                var quantity = Quantity(instrument, p);
                var reduce = Maybe(0.3);
                request = new OrderListRequest
                {
                    Type = listType,
                    Bucket = bucket,
                    ClientOrderId = clientId,
                    Legs = [profit with { Quantity = quantity, ReduceOnly = reduce }, loss with { Quantity = quantity, ReduceOnly = reduce, TriggerBy = Pick(Enum.GetValues<TriggerSource>()) }],
                };
                break;
            }

            case OrderListType.Oto:
            {
                var primary = RandomOrder(symbol, null) with { ReduceOnly = false, ClosePosition = false };
                if (primary.Quantity is null) primary = primary with { Quantity = Quantity(instrument, p) };
                var secondaries = Enumerable.Range(0, 1 + _rng.Next(3)).Select(_ => RandomOrder(symbol, null)).ToList();
                request = new OrderListRequest { Type = listType, Bucket = bucket, ClientOrderId = clientId, Primary = primary, Secondary = secondaries };
                break;
            }

            case OrderListType.Bracket:
            {
                var side = Maybe(0.5) ? OrderSide.Buy : OrderSide.Sell;
                var up = side == OrderSide.Buy ? 1m : -1m;
                var entry = _rng.Next(3) switch
                {
                    0 => new OrderRequest { Symbol = symbol, Side = side, Type = OrderType.Market },
                    1 => new OrderRequest { Symbol = symbol, Side = side, Type = OrderType.Limit, Price = Price(instrument, p * (1m - up * Fraction(-0.002, 0.01))) },
                    _ => new OrderRequest { Symbol = symbol, Side = side, Type = OrderType.Stop, TriggerPrice = Price(instrument, p * (1m + up * Fraction(0.002, 0.01))) },
                };
                entry = entry with { Quantity = Quantity(instrument, p) };
                var reference = entry.Price ?? entry.TriggerPrice ?? p;
                var tp = Price(instrument, reference * (1m + up * Fraction(0.003, 0.03)));
                var sl = Price(instrument, reference * (1m - up * Fraction(0.002, 0.012)));
                request = new OrderListRequest
                {
                    Type = listType,
                    Bucket = bucket,
                    ClientOrderId = clientId,
                    Entry = entry,
                    TakeProfit = new ExitRequest(tp, Maybe(0.3) ? Price(instrument, tp * (1m - up * 0.001m)) : null),
                    StopLoss = new ExitRequest(sl, Maybe(0.3) ? Price(instrument, sl * (1m - up * 0.002m)) : null),
                };
                break;
            }

            default:
                request = new OrderListRequest
                {
                    Type = listType,
                    Bucket = bucket,
                    ClientOrderId = clientId,
                    Symbol = symbol,
                    Quantity = Quantity(instrument, p),
                    AboveTrigger = Price(instrument, p * (1m + Fraction(0.001, 0.02))),
                    BelowTrigger = Price(instrument, p * (1m - Fraction(0.001, 0.02))),
                    TakeProfitDistance = Maybe(0.7) ? Math.Round(Fraction(0.003, 0.03), 4) : null,
                    StopLossDistance = Maybe(0.7) ? Math.Round(Fraction(0.002, 0.015), 4) : null,
                    TriggerBy = Pick(Enum.GetValues<TriggerSource>()),
                };
                break;
        }

        return new PlaceOrderList(request, clientId is null ? null : "body-" + clientId) { Account = account };
    }

    private Command Amend(AccountId account)
    {
        // Now and then an order in the middle of its trigger confirmation.
        var confirming = Shard.FindAccount(account)!.LiveOrders.Select(n => Shard.Orders[n]).Where(o => o.Phase == OrderPhase.Confirming).ToList();
        var order = confirming.Count > 0 && Maybe(0.4) ? Pick(confirming) : PickLiveOrder(account);
        if (order is null) return new AmendOrder(999_999, 1m, null, null, null) { Account = account };
        var instrument = Catalog.Find(order.Symbol)!;
        var p = _prices[order.Symbol].Index;
        decimal? quantity = Maybe(0.4) ? Quantity(instrument, p) : null;
        decimal? price = order.IsLimitType && Maybe(0.5) ? Price(instrument, (order.Price ?? p) * (1m + Fraction(-0.01, 0.01))) : null;
        decimal? trigger = order.TriggerPrice is { } t && Maybe(0.6) ? Price(instrument, t * (1m + Fraction(-0.01, 0.01))) : null;
        decimal? rate = order.CallbackRate is not null && Maybe(0.6) ? Math.Round(Fraction(0.002, 0.03), 4) : null;
        return new AmendOrder(order.Number, quantity, price, trigger, rate) { Account = account };
    }

    private Command Cancel(AccountId account)
    {
        var order = PickLiveOrder(account);
        return new CancelOrder(order?.Number ?? _rng.Next(1, 500)) { Account = account };
    }

    private Command ClosePosition(AccountId account)
    {
        var withPositions = Shard.FindAccount(account)!.Buckets.Where(b => b.Positions.Count > 0).ToList();
        if (withPositions.Count == 0) return new ClosePosition(Pick(Buckets(account)), Pick(Symbols)) { Account = account };
        var bucket = Pick(withPositions);
        return new ClosePosition(bucket.Id, Pick(bucket.Positions.Keys.Order(StringComparer.Ordinal).ToList())) { Account = account };
    }

    private Command Idempotent(AccountId account)
    {
        if (_idempotent.Count > 0 && Maybe(0.3)) return Pick(_idempotent).Command;
        var command = new RecordIdempotentResponse($"key-{_clientIds++}", "hash", 201, "{\"ok\":true}") { Account = account };
        _idempotent.Add((account, command));
        return command;
    }

    private Order? PickLiveOrder(AccountId account)
    {
        var live = Shard.FindAccount(account)!.LiveOrders.Order().ToList();
        return live.Count == 0 ? null : Shard.FindOrder(account, Pick(live));
    }

    private List<BucketId> Buckets(AccountId account) => Shard.FindAccount(account)!.Buckets.Select(b => b.Id).ToList();

    private List<BucketId> TradingBuckets(AccountId account) =>
        Shard.FindAccount(account)!.Buckets.Where(b => b.Kind != BucketKind.Plan).Select(b => b.Id).ToList();

    private decimal Quantity(Instrument instrument, decimal price)
    {
        var notional = (decimal)(_rng.NextDouble() * 2_500 + 20);
        return Math.Max(instrument.MinQuantity, instrument.FloorToLot(notional / price));
    }

    /// <summary>
    /// A price on the tick grid; often on a coarse grid, so that many orders share a trigger and the
    /// order in which equal triggers fire (and take the bucket's margin) matters.
    /// </summary>
    private decimal Price(Instrument instrument, decimal raw)
    {
        var grid = Maybe(0.4) ? instrument.TickSize * 200 : instrument.TickSize;
        return Math.Max(instrument.TickSize, decimal.Round(raw / grid, 0, MidpointRounding.AwayFromZero) * grid);
    }

    /// <summary>Good-till-date times on whole minutes, so that several orders expire at the same moment.</summary>
    private DateTimeOffset ExpiryTime()
    {
        var at = Now.AddSeconds(_rng.Next(5, 600));
        return new DateTimeOffset(at.Ticks - at.Ticks % TimeSpan.TicksPerMinute + TimeSpan.TicksPerMinute, TimeSpan.Zero);
    }

    private decimal Fraction(double min, double max) => (decimal)(min + _rng.NextDouble() * (max - min));

    private decimal Amount(decimal min, decimal max) => Math.Round(min + (max - min) * (decimal)_rng.NextDouble(), 2);

    private bool Maybe(double probability) => _rng.NextDouble() < probability;

    private T Pick<T>(IReadOnlyList<T> items) => items[_rng.Next(items.Count)];
}
