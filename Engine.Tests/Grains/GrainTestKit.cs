using System.Globalization;
using System.Text;
using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Instruments;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;
using Engine.Grains.Risk;

namespace Engine.Tests.Grains;

/// <summary>
/// A shard with one funded account, driven one command or price at a time. Every event the shard
/// produces is appended to <see cref="Journal"/>, so a test can replay it into a fresh shard.
/// </summary>
internal sealed class GrainTestKit
{
    public const string Btc = "BTC-USDT";
    public const string Eth = "ETH-USDT";
    public static readonly DateTimeOffset T0 = new(2025, 3, 12, 12, 30, 0, TimeSpan.Zero);

    /// <param name="slippage">Paper venue slippage (a fraction); 0 fills market orders at the index.</param>
    /// <param name="wallet">USDT deposited into the wallet.</param>
    /// <param name="manual">USDT moved from the wallet into the manual bucket.</param>
    public GrainTestKit(decimal slippage = 0m, decimal wallet = 100_000m, decimal manual = 10_000m, string account = "acc-1", ShardOptions? options = null)
        : this(slippage, wallet, manual, account, options, null)
    {
    }

    /// <summary>As the other constructor, on a shard shared with another kit (several accounts in one shard).</summary>
    public GrainTestKit(decimal slippage, decimal wallet, decimal manual, string account, ShardOptions? options, ShardGrains? shard)
    {
        Shard = shard ?? new ShardGrains(InstrumentCatalog.Default, new PaperVenue(slippage), options);
        Account = new AccountId(account);
        Must(new OpenAccount("trader", "key-hash") { Account = Account });
        if (wallet > 0m) Must(new Deposit(wallet) { Account = Account });
        Manual = Shard.FindAccount(Account)!.ManualBucket;
        if (manual > 0m) Must(new TransferFunds(Manual, TransferDirection.In, manual) { Account = Account });
    }

    public ShardGrains Shard { get; }
    public AccountId Account { get; }
    public BucketId Manual { get; }
    public DateTimeOffset Now { get; set; } = T0;

    /// <summary>Every event produced so far, in order.</summary>
    public List<EngineEvent> Journal { get; } = [];

    /// <summary>A position in the journal; <see cref="Since"/> returns what came after it.</summary>
    public int Cursor => Journal.Count;

    public IReadOnlyList<EngineEvent> Since(int cursor) => Journal.Skip(cursor).ToList();

    // ---- commands ----

    public CommandResult Execute(Command command)
    {
        var result = Shard.Execute(command, Now);
        Journal.AddRange(result.Events);
        return result;
    }

    /// <summary>Executes a command that must succeed; returns its value.</summary>
    public object? Must(Command command)
    {
        var result = Execute(command);
        Assert.True(result.Succeeded, $"{command.GetType().Name} was rejected: {result.Rejection}");
        return result.Value;
    }

    public CommandResult Place(OrderRequest request) => Execute(new PlaceOrder(request, null) { Account = Account });

    public long PlaceOk(OrderRequest request) => (long)Must(new PlaceOrder(request, null) { Account = Account })!;

    public CommandResult PlaceList(OrderListRequest request) => Execute(new PlaceOrderList(request, null) { Account = Account });

    public ListId PlaceListOk(OrderListRequest request) => (ListId)Must(new PlaceOrderList(request, null) { Account = Account })!;

    public CommandResult Amend(long order, decimal? quantity = null, decimal? price = null, decimal? triggerPrice = null, decimal? callbackRate = null) =>
        Execute(new AmendOrder(order, quantity, price, triggerPrice, callbackRate) { Account = Account });

    public CommandResult Cancel(long order) => Execute(new CancelOrder(order) { Account = Account });

    public CommandResult ClosePosition(string symbol = Btc, BucketId? bucket = null) =>
        Execute(new ClosePosition(bucket ?? Manual, symbol) { Account = Account });

    public BucketId CreateBucket(string name, decimal allocation) =>
        (BucketId)Must(new CreateBucket(name, allocation) { Account = Account })!;

    public void SetLeverage(string symbol, int leverage, BucketId? bucket = null) =>
        Must(new SetLeverage(bucket ?? Manual, symbol, leverage) { Account = Account });

    // ---- prices and time ----

    /// <summary>Sets last, index and mark of <paramref name="symbol"/> to one price.</summary>
    public IReadOnlyList<EngineEvent> Price(decimal price, string symbol = Btc) => Prices(symbol, price, price, price);

    /// <summary>Sets only the index (the others keep their values).</summary>
    public IReadOnlyList<EngineEvent> Index(decimal price, string symbol = Btc) => Prices(symbol, null, price, null);

    /// <summary>Feeds one quote; a null member keeps its previous value.</summary>
    public IReadOnlyList<EngineEvent> Prices(string symbol, decimal? last, decimal? index, decimal? mark)
    {
        var output = new List<EngineEvent>();
        Shard.OnPrices(symbol, new Quote(last, index, mark), Now, output);
        Journal.AddRange(output);
        return output;
    }

    public IReadOnlyList<EngineEvent> AdvanceTo(DateTimeOffset now)
    {
        Now = now;
        var output = new List<EngineEvent>();
        Shard.AdvanceTime(now, output);
        Journal.AddRange(output);
        return output;
    }

    /// <summary>Halts a symbol as the runtime's breaker or an operator would (every shard gets the same call).</summary>
    public IReadOnlyList<EngineEvent> Halt(string symbol = Btc, string reason = HaltReasons.Operator, DateTimeOffset? until = null)
    {
        var output = new List<EngineEvent>();
        Shard.SetSymbolHalt(symbol, new SymbolHalt(reason, Now, until), "", Now, output);
        Journal.AddRange(output);
        return output;
    }

    public IReadOnlyList<EngineEvent> Resume(string symbol = Btc, string reason = HaltReasons.Operator)
    {
        var output = new List<EngineEvent>();
        Shard.SetSymbolHalt(symbol, null, reason, Now, output);
        Journal.AddRange(output);
        return output;
    }

    /// <summary>Moves the clock by <paramref name="by"/> and runs the shard's timer work.</summary>
    public IReadOnlyList<EngineEvent> Advance(TimeSpan by) => AdvanceTo(Now + by);

    /// <summary>A snapshot of the shard, written and read through the binary codec, restored into a new shard with the current prices.</summary>
    public ShardGrains Restored()
    {
        using var stream = new MemoryStream();
        Engine.Silo.Persistence.ShardSnapshotCodec.Write(stream, Shard.Capture());
        stream.Position = 0;
        var restored = ShardGrains.Restore(Engine.Silo.Persistence.ShardSnapshotCodec.Read(stream), InstrumentCatalog.Default, Shard.Venue, Shard.Options);
        foreach (var symbol in new[] { Btc, Eth, "SOL-USDT" }) restored.PrimeQuote(symbol, Shard.QuoteOf(symbol));
        return restored;
    }

    // ---- state ----

    public Order OrderOf(long number) => Shard.Orders[number];

    public Account AccountState => Shard.FindAccount(Account)!;

    public Bucket BucketOf(BucketId? bucket = null) => AccountState.FindBucket(bucket ?? Manual)!;

    public Position? PositionOf(string symbol = Btc, BucketId? bucket = null) =>
        BucketOf(bucket).Positions.GetValueOrDefault(symbol);

    /// <summary>A fresh shard that has applied every journaled event.</summary>
    public ShardGrains Replay()
    {
        var fresh = new ShardGrains(InstrumentCatalog.Default, new PaperVenue(0m), Shard.Options);
        foreach (var e in Journal) fresh.Apply(e);
        return fresh;
    }

    /// <summary>Asserts that replaying the journal rebuilds the same orders, balances, positions and books.</summary>
    public void AssertReplayMatches()
    {
        var replayed = Replay();
        Assert.Equal(StateOf(Shard), StateOf(replayed));
        Assert.Equal(Shard.Fingerprint(), replayed.Fingerprint());
    }

    /// <summary>A textual dump of the state that replay must rebuild exactly.</summary>
    /// <param name="withEventCount">False to ignore how many events each account has recorded (a CommandRejected adds one).</param>
    public static string StateOf(ShardGrains shard, bool withEventCount = true)
    {
        var sb = new StringBuilder();
        void Line(FormattableString s) => sb.AppendLine(s.ToString(CultureInfo.InvariantCulture));
        Line($"next order {shard.NextOrderNumber} fill {shard.NextFillNumber} position {shard.NextPositionKey} triggers {shard.TriggerCount}");
        foreach (var a in shard.Accounts.Values.OrderBy(a => a.Id.Value, StringComparer.Ordinal))
        {
            Line($"account {a.Id} wallet {a.WalletBalance} lists {a.ListCount} live [{string.Join(",", a.LiveOrders.Order())}] events {(withEventCount ? a.EventSequence : -1)}");
            foreach (var b in a.Buckets)
            {
                Line($"  bucket {b.Id} {b.Kind} balance {b.Balance} realized {b.RealizedPnl} used {b.UsedMargin}");
                foreach (var p in b.Positions.Values.OrderBy(p => p.Symbol, StringComparer.Ordinal))
                    Line($"    position {p.Symbol} {p.Quantity} @ {p.EntryPrice} margin {p.Margin} lev {p.Leverage} liq {p.LiquidationPrice}");
            }

            foreach (var f in a.Fills)
                Line($"  fill {f.Number} order {f.Order} {f.Side} {f.Quantity} @ {f.Price} fee {f.Fee} pnl {f.RealizedPnl} {f.Liquidity}");
        }

        foreach (var o in shard.Orders.Values.OrderBy(o => o.Number))
            Line($"order {o.Number} {o.Type} {o.Side} {o.Status} {o.Phase} q {o.Quantity} filled {o.FilledQuantity} avg {o.AverageFillPrice} price {o.Price} trigger {o.TriggerPrice} cb {o.CallbackRate}/{o.CallbackAmount} extreme {shard.TrailingExtreme(o)} triggered {o.TriggeredPrice} reason {o.Reason}");
        return sb.ToString();
    }

    // ---- requests ----

    public static OrderRequest Market(OrderSide side, decimal quantity, string symbol = Btc) =>
        new() { Symbol = symbol, Side = side, Type = OrderType.Market, Quantity = quantity };

    public static OrderRequest Limit(OrderSide side, decimal quantity, decimal price, TimeInForce tif = TimeInForce.Gtc, string symbol = Btc) =>
        new() { Symbol = symbol, Side = side, Type = OrderType.Limit, Quantity = quantity, Price = price, TimeInForce = tif };

    public static OrderRequest Stop(OrderSide side, decimal quantity, decimal trigger, TriggerSource by = TriggerSource.Index, string symbol = Btc) =>
        new() { Symbol = symbol, Side = side, Type = OrderType.Stop, Quantity = quantity, TriggerPrice = trigger, TriggerBy = by };

    public static OrderRequest StopLimit(OrderSide side, decimal quantity, decimal trigger, decimal price, TriggerSource by = TriggerSource.Index, string symbol = Btc) =>
        new() { Symbol = symbol, Side = side, Type = OrderType.StopLimit, Quantity = quantity, TriggerPrice = trigger, Price = price, TriggerBy = by };

    public static OrderRequest TakeProfit(OrderSide side, decimal quantity, decimal trigger, TriggerSource by = TriggerSource.Index, string symbol = Btc) =>
        new() { Symbol = symbol, Side = side, Type = OrderType.TakeProfit, Quantity = quantity, TriggerPrice = trigger, TriggerBy = by };

    public static OrderRequest TakeProfitLimit(OrderSide side, decimal quantity, decimal trigger, decimal price, TriggerSource by = TriggerSource.Index, string symbol = Btc) =>
        new() { Symbol = symbol, Side = side, Type = OrderType.TakeProfitLimit, Quantity = quantity, TriggerPrice = trigger, Price = price, TriggerBy = by };

    public static OrderRequest TrailingByRate(OrderSide side, decimal quantity, decimal rate, decimal? activation = null, string symbol = Btc) =>
        new() { Symbol = symbol, Side = side, Type = OrderType.TrailingStop, Quantity = quantity, CallbackRate = rate, ActivationPrice = activation };

    public static OrderRequest TrailingByAmount(OrderSide side, decimal quantity, decimal amount, decimal? activation = null, string symbol = Btc) =>
        new() { Symbol = symbol, Side = side, Type = OrderType.TrailingStop, Quantity = quantity, CallbackAmount = amount, ActivationPrice = activation };

    // ---- event helpers ----

    /// <summary>The event types in order, as short names, for sequence assertions.</summary>
    public static string[] Kinds(IEnumerable<EngineEvent> events) => events.Select(e => e.GetType().Name).ToArray();

    public static T Single<T>(IEnumerable<EngineEvent> events) where T : EngineEvent => Assert.Single(events.OfType<T>());

    public static T Single<T>(IEnumerable<EngineEvent> events, Func<T, bool> where) where T : EngineEvent =>
        Assert.Single(events.OfType<T>(), e => where(e));

    public static void AssertRejected(CommandResult result, RejectionKind kind, string code)
    {
        Assert.False(result.Succeeded, "the command was accepted");
        Assert.Equal((kind, code), (result.Rejection!.Kind, result.Rejection.Code));
    }
}
