using Engine.Grains.Accounts;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Instruments;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;

namespace Engine.Grains;

/// <summary>
/// The grains of one shard: its accounts (with their buckets, positions and orders) and the trigger
/// books that index their waiting orders. Single-writer: only the owning shard loop calls it.
/// Every change goes through <see cref="Emit"/>, which applies an event and records it, so the
/// recorded events replayed through <see cref="Apply"/> rebuild exactly the same state.
/// </summary>
public sealed partial class ShardGrains
{
    private readonly Dictionary<AccountId, Account> _accounts = [];
    private Account? _lastAccount;
    private readonly Dictionary<long, Order> _orders = [];
    private readonly Dictionary<long, Position> _positionsByKey = [];
    private readonly Dictionary<long, List<long>> _children = [];
    private readonly Dictionary<(BucketId Bucket, string Symbol), HashSet<long>> _exits = [];
    private readonly Dictionary<(string Symbol, TriggerSource Source), TriggerBook> _books = [];
    private readonly Dictionary<string, Quote> _quotes = new(StringComparer.Ordinal);
    private readonly PriorityQueue<long, DateTimeOffset> _expiries = new();
    private readonly TriggerEntries _triggerEntries;
    private List<EngineEvent> _out = [];

    /// <summary>When set, every account event applied is also appended here with its sequence (the runtime publishes them after commit).</summary>
    internal List<SequencedEvent>? Recorded { get; set; }
    private DateTimeOffset _now;

    public ShardGrains(InstrumentCatalog instruments, IExecutionVenue venue, ShardOptions? options = null)
    {
        Instruments = instruments;
        Venue = venue;
        Options = options ?? new ShardOptions();
        _triggerEntries = new TriggerEntries(_orders);
    }

    public InstrumentCatalog Instruments { get; }
    public IExecutionVenue Venue { get; }
    public ShardOptions Options { get; }

    /// <summary>Next shard-unique order number; also read and restored by snapshots.</summary>
    public long NextOrderNumber { get; internal set; } = 1;
    public long NextFillNumber { get; internal set; } = 1;
    public long NextPositionKey { get; internal set; } = 1;

    public IReadOnlyDictionary<AccountId, Account> Accounts => _accounts;
    public IReadOnlyDictionary<long, Order> Orders => _orders;

    public Account? FindAccount(AccountId id) => _accounts.GetValueOrDefault(id);

    /// <summary>An order of <paramref name="account"/>, or null (unknown, another account's, or forgotten).</summary>
    public Order? FindOrder(AccountId account, long number) =>
        _orders.TryGetValue(number, out var o) && o.Account == account ? o : null;

    public Quote QuoteOf(string symbol) => _quotes.GetValueOrDefault(symbol);

    /// <summary>Live entries across all trigger books (waiting orders and liquidation levels).</summary>
    public int TriggerCount
    {
        get
        {
            var n = 0;
            foreach (var b in _books.Values) n += b.Count;
            return n;
        }
    }

    /// <summary>The trailing extreme a live trailing stop follows now, for snapshots and reads.</summary>
    public decimal? TrailingExtreme(Order order) =>
        order.Phase == OrderPhase.Trailing ? Book(order.Symbol, order.Spec.TriggerBy).TrailingExtreme(order.Number) : null;

    /// <summary>Handles one command at <paramref name="now"/>: validates, then emits and applies its events.</summary>
    public CommandResult Execute(Command command, DateTimeOffset now) => Execute(command, now, []);

    /// <summary>
    /// As <see cref="Execute(Command, DateTimeOffset)"/>, appending the events to <paramref name="output"/>
    /// as they are applied (so that a batch journals exactly what was applied, even if a bug throws).
    /// </summary>
    public CommandResult Execute(Command command, DateTimeOffset now, List<EngineEvent> output)
    {
        _now = now;
        var start = output.Count;
        _out = output;
        var result = command switch
        {
            OpenAccount c => Decide(c),
            Deposit c => Decide(c),
            Withdraw c => Decide(c),
            CreateBucket c => Decide(c),
            TransferFunds c => Decide(c),
            SetLeverage c => Decide(c),
            PlaceOrder c => Decide(c),
            PlaceOrderList c => Decide(c),
            AmendOrder c => Decide(c),
            CancelOrder c => Decide(c),
            CancelOrders c => Decide(c),
            ClosePosition c => Decide(c),
            RecordIdempotentResponse c => Decide(c),
            CreatePlan c => Decide(c),
            RunPlanStep c => Decide(c),
            CancelPlan c => Decide(c),
            EngageKillSwitch c => Decide(c),
            ReleaseKillSwitch c => Decide(c),
            SetCancelAllAfter c => Decide(c),
            SetDailyLossLimit c => Decide(c),
            ReleaseDailyLossLock c => Decide(c),
            PublishStrategy c => Decide(c),
            CloseStrategy c => Decide(c),
            AddCopyFollower c => Decide(c),
            RemoveCopyFollower c => Decide(c),
            AcknowledgeCopySignal c => Decide(c),
            Subscribe c => Decide(c),
            EndSubscription c => Decide(c),
            _ => new CommandResult(Rejection.Invalid("unknown_command", command.GetType().Name), []),
        };
        if (_lossLimited.Count != 0 && result.Succeeded) CheckLossLimits(command.Account);
        if (result.Rejection is { Kind: RejectionKind.Business } r && output.Count == start && _accounts.ContainsKey(command.Account))
            Emit(new CommandRejected(CommandName(command), r.Code, r.Detail) { At = now, Account = command.Account });
        return result with { Events = output.GetRange(start, output.Count - start) };
    }

    /// <summary>
    /// New prices for a symbol: every book of the symbol is evaluated against its source's price and
    /// what fires is processed in order. Events go to <paramref name="output"/>.
    /// </summary>
    public void OnPrices(string symbol, Quote quote, DateTimeOffset now, List<EngineEvent> output)
    {
        _now = now;
        _out = output;
        var previous = _quotes.GetValueOrDefault(symbol);
        _quotes[symbol] = new Quote(quote.Last ?? previous.Last, quote.Index ?? previous.Index, quote.Mark ?? previous.Mark);
        // A halted symbol's orders wait: its books are evaluated at the prices of the moment it resumes.
        if (_halts.Count != 0 && _halts.ContainsKey(symbol)) return;
        if (quote.Index is { } index && index != previous.Index) Evaluate(symbol, TriggerSource.Index, index);
        if (quote.Mark is { } mark && mark != previous.Mark) Evaluate(symbol, TriggerSource.Mark, mark);
        if (quote.Last is { } last && last != previous.Last) Evaluate(symbol, TriggerSource.Last, last);
        if (_fallbackWatches.Count + _pendingCloses.Count + _lossLimited.Count != 0) AfterPrices(symbol);
    }

    /// <summary>
    /// Time passes: dead man's switches, trigger confirmations, stop-limit fallbacks and daily loss
    /// limits whose time has come act, then good-till-date orders whose time has come expire.
    /// </summary>
    public void AdvanceTime(DateTimeOffset now, List<EngineEvent> output)
    {
        _now = now;
        _out = output;
        AdvanceRisk();
        if (!_expiries.TryPeek(out _, out var first) || first > now) return;
        // The heap's order among equal times depends on its history; a replayed or restored shard must
        // expire in the same order as the live one, so due orders go by (time, order number).
        var due = new List<(DateTimeOffset At, long Number)>();
        while (_expiries.TryPeek(out var number, out var at) && at <= now)
        {
            _expiries.Dequeue();
            due.Add((at, number));
        }

        due.Sort();
        foreach (var (at, number) in due)
            if (_orders.TryGetValue(number, out var order) && order.IsLive && order.Spec.ExpireAt == at)
                Finish(order, new OrderExpired(number, OrderReasons.GtdExpired) { At = now, Account = order.Account });
    }

    private static string CommandName(Command c)
    {
        var name = c.GetType().Name;
        return char.ToLowerInvariant(name[0]) + name[1..];
    }

    /// <summary>Applies an event now and records it for the journal.</summary>
    private void Emit(EngineEvent e)
    {
        // A fill or a take-profit/stop-loss change in a strategy's bucket also emits the strategy's signal.
        if (_strategyByBucket.Count != 0 && e is AccountEvent ae && MirroredBy(ae) is { } strategy)
        {
            EmitMirrored(strategy, ae);
            return;
        }

        Apply(e);
        _out.Add(e);
    }

    private TriggerBook Book(string symbol, TriggerSource source)
    {
        if (!_books.TryGetValue((symbol, source), out var book))
            _books[(symbol, source)] = book = new TriggerBook(_triggerEntries);
        return book;
    }

    /// <summary>
    /// The account of an id that exists. One command touches one account many times (each event it applies,
    /// each fill it plans), and a fan-out goes account by account: the last one found is asked first, by the
    /// id's string (accounts are never removed or replaced, so it cannot go stale).
    /// </summary>
    private Account AccountOf(AccountId id)
    {
        var last = _lastAccount;
        if (last is not null && ReferenceEquals(last.Id.Value, id.Value)) return last;
        return _lastAccount = _accounts[id];
    }

    private Instrument InstrumentOf(string symbol) =>
        Instruments.Find(symbol) ?? throw new InvalidOperationException($"unknown symbol {symbol}");

    internal int LeverageOf(Bucket bucket, string symbol) =>
        bucket.Leverage.TryGetValue(symbol, out var lev)
            ? lev
            : Math.Min(Options.DefaultLeverage, InstrumentOf(symbol).MaxLeverage);
}
