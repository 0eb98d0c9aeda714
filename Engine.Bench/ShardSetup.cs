using Engine.Grains;
using Engine.Grains.Events;
using Engine.Grains.Orders;

namespace Engine.Bench;

/// <summary>Builds one shard's domain state in memory, through the real commands.</summary>
internal static class ShardSetup
{
    public static readonly DateTimeOffset T0 = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Wallet deposit and manual-bucket funding per account (USDT): ample for every fire to fill.</summary>
    public const decimal Funds = 1_000_000_000m;

    public static ShardGrains NewShard(ShardOptions? options = null, IExecutionVenue? venue = null) =>
        new(Market.Catalog, venue ?? new PaperVenue(0.0005m), options);

    public static IEnumerable<Command> AccountCommands(int accounts)
    {
        for (var i = 0; i < accounts; i++)
        {
            var id = Market.AccountId(i);
            yield return new OpenAccount($"bench {i}", $"hash-{i}") { Account = id };
            yield return new Deposit(Funds) { Account = id };
            yield return new TransferFunds(BucketId.For(id, 1), TransferDirection.In, Funds) { Account = id };
        }
    }

    public static void OpenAccounts(ShardGrains shard, int accounts)
    {
        foreach (var command in AccountCommands(accounts)) Must(shard.Execute(command, T0), command);
    }

    /// <summary>Every symbol at its start price, on all three sources.</summary>
    public static void PrimeQuotes(ShardGrains shard)
    {
        var output = new List<EngineEvent>();
        for (var s = 0; s < Market.Count; s++)
        {
            var p = Market.StartPrices[s];
            shard.OnPrices(Market.Symbols[s], new Quote(p, p, p), T0, output);
        }
    }

    public static PlaceOrder Command(in GeneratedOrder o, AccountId[] accounts) => new(o.Request, null) { Account = accounts[o.Account] };

    public static AccountId[] AccountIds(int accounts) => Enumerable.Range(0, accounts).Select(Market.AccountId).ToArray();

    /// <summary>Places every order with Execute; returns the order numbers.</summary>
    public static long[] Place(ShardGrains shard, GeneratedOrder[] orders, int accounts)
    {
        var ids = AccountIds(accounts);
        var numbers = new long[orders.Length];
        for (var i = 0; i < orders.Length; i++)
        {
            var command = Command(orders[i], ids);
            var result = shard.Execute(command, T0);
            Must(result, command);
            numbers[i] = (long)result.Value!;
        }

        return numbers;
    }

    private static void Must(CommandResult result, Command command)
    {
        if (!result.Succeeded)
            throw new InvalidOperationException($"{command.GetType().Name} rejected: {result.Rejection}");
    }
}

/// <summary>
/// The paper venue with a stopwatch: the shard asks the venue for a fill price right after it has
/// emitted (and applied) an order's OrderTriggered, so the first call after <see cref="Arm"/> marks
/// the moment the tick's first trigger was produced. One timestamp per tick that triggers.
/// </summary>
internal sealed class FirstTriggerVenue(decimal slippage) : IExecutionVenue
{
    private readonly PaperVenue _inner = new(slippage);
    private bool _armed;
    private bool _cpuClock;

    /// <summary>
    /// Stopwatch timestamp (or thread-CPU nanoseconds, when armed so) of the first fill-price request
    /// since <see cref="Arm"/>; 0 when none.
    /// </summary>
    public long FirstCall { get; private set; }

    public void Arm(bool cpuClock = false)
    {
        _armed = true;
        _cpuClock = cpuClock;
        FirstCall = 0;
    }

    public decimal? MarketFillPrice(Engine.Grains.Instruments.Instrument instrument, OrderSide side, decimal quantity, Quote quote)
    {
        if (_armed)
        {
            FirstCall = _cpuClock ? Cpu.ThreadNanos() : System.Diagnostics.Stopwatch.GetTimestamp();
            _armed = false;
        }

        return _inner.MarketFillPrice(instrument, side, quantity, quote);
    }
}
