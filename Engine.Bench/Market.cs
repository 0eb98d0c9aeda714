using Engine.Grains;
using Engine.Grains.Instruments;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;

namespace Engine.Bench;

/// <summary>The ten symbols of the default catalog with a start price each.</summary>
internal static class Market
{
    public static readonly InstrumentCatalog Catalog = InstrumentCatalog.Default;

    private static readonly (string Symbol, decimal Start)[] Starts =
    [
        ("BTC-USDT", 60_000m),
        ("ETH-USDT", 3_000m),
        ("SOL-USDT", 150m),
        ("BNB-USDT", 600m),
        ("XRP-USDT", 2.5m),
        ("ARB-USDT", 0.8m),
        ("OP-USDT", 2m),
        ("POL-USDT", 0.5m),
        ("FET-USDT", 1.5m),
        ("RENDER-USDT", 7m),
    ];

    /// <summary>Symbol strings, shared by every order and tick (as the catalog's would be).</summary>
    public static readonly string[] Symbols = Starts.Select(s => Catalog.Find(s.Symbol)!.Symbol).ToArray();

    public static readonly decimal[] StartPrices = Starts.Select(s => s.Start).ToArray();

    public static readonly Instrument[] Instruments = Symbols.Select(s => Catalog.Find(s)!).ToArray();

    public static int Count => Symbols.Length;

    public static AccountId AccountId(int i) => new($"bench-{i:D6}");
}

/// <summary>The kinds of resting conditional order in the mix.</summary>
internal enum MixKind
{
    Stop,
    StopLimit,
    TakeProfit,
    TakeProfitLimit,
    TrailingRate,
    TrailingAmount,
    TrailingActivation,
}

/// <summary>One generated order: the request plus what the naive baseline needs to watch it.</summary>
internal readonly record struct GeneratedOrder(int Account, int Symbol, MixKind Kind, OrderRequest Request);

/// <summary>
/// A deterministic mix of resting conditional orders spread around each symbol's start price:
/// stops on the far side (buy above, sell below), take-profits on the near-profit side (buy below,
/// sell above), trailing stops with a rate or an amount, some with an activation price. Levels sit
/// 0.2% to 15% from the start price, trailing callbacks are 0.5% to 10%. Triggered by the index (80%),
/// the mark (10%) or the last price (10%).
/// </summary>
internal static class OrderMix
{
    /// <summary>Weights in percent, in <see cref="MixKind"/> order.</summary>
    private static readonly int[] Weights = [30, 10, 25, 10, 15, 5, 5];

    public static readonly MixKind[] AllKinds = Enum.GetValues<MixKind>();

    /// <summary>Generates <paramref name="count"/> orders, round-robin over accounts and random over symbols.</summary>
    public static GeneratedOrder[] Generate(int count, int accounts, int seed, MixKind? only = null)
    {
        var rng = new Random(seed);
        var orders = new GeneratedOrder[count];
        for (var i = 0; i < count; i++)
        {
            var kind = only ?? PickKind(rng);
            var symbol = rng.Next(Market.Count);
            orders[i] = new GeneratedOrder(i % accounts, symbol, kind, Create(rng, symbol, kind));
        }

        return orders;
    }

    private static MixKind PickKind(Random rng)
    {
        var roll = rng.Next(100);
        for (var k = 0; k < Weights.Length; k++)
        {
            if (roll < Weights[k]) return (MixKind)k;
            roll -= Weights[k];
        }

        return MixKind.Stop;
    }

    private static OrderRequest Create(Random rng, int symbol, MixKind kind)
    {
        var inst = Market.Instruments[symbol];
        var p0 = Market.StartPrices[symbol];
        var side = rng.Next(2) == 0 ? OrderSide.Buy : OrderSide.Sell;
        var by = rng.Next(10) switch
        {
            0 => TriggerSource.Mark,
            1 => TriggerSource.Last,
            _ => TriggerSource.Index,
        };

        // 0.2% .. 15% away from the start price, on the side where the order waits.
        var distance = rng.Next(20, 1501) / 10_000m;
        var quantity = QuantityFor(inst, p0);
        switch (kind)
        {
            case MixKind.Stop or MixKind.StopLimit:
            {
                // A buy stop fires on a rise (above), a sell stop on a fall (below).
                var trigger = side == OrderSide.Buy ? inst.CeilToTick(p0 * (1 + distance)) : inst.FloorToTick(p0 * (1 - distance));
                return new OrderRequest
                {
                    Symbol = inst.Symbol,
                    Side = side,
                    Type = kind == MixKind.Stop ? OrderType.Stop : OrderType.StopLimit,
                    Quantity = quantity,
                    TriggerPrice = trigger,
                    // Marketable when it fires: the limit is 0.2% beyond the trigger.
                    Price = kind == MixKind.StopLimit ? LimitBeyond(inst, side, trigger) : null,
                    TriggerBy = by,
                };
            }

            case MixKind.TakeProfit or MixKind.TakeProfitLimit:
            {
                // A buy take-profit fires on a fall (below), a sell take-profit on a rise (above).
                var trigger = side == OrderSide.Buy ? inst.FloorToTick(p0 * (1 - distance)) : inst.CeilToTick(p0 * (1 + distance));
                return new OrderRequest
                {
                    Symbol = inst.Symbol,
                    Side = side,
                    Type = kind == MixKind.TakeProfit ? OrderType.TakeProfit : OrderType.TakeProfitLimit,
                    Quantity = quantity,
                    TriggerPrice = trigger,
                    Price = kind == MixKind.TakeProfitLimit ? LimitBeyond(inst, side, trigger) : null,
                    TriggerBy = by,
                };
            }

            default:
            {
                var callback = rng.Next(50, 1001) / 10_000m;
                var amount = kind == MixKind.TrailingAmount ? Math.Max(inst.TickSize, inst.RoundToTick(p0 * callback)) : (decimal?)null;
                decimal? activation = null;
                if (kind == MixKind.TrailingActivation)
                {
                    // A trailing sell starts following once the price rises to its activation price, a buy once it falls to it.
                    var near = rng.Next(10, 201) / 10_000m;
                    activation = side == OrderSide.Sell ? inst.CeilToTick(p0 * (1 + near)) : inst.FloorToTick(p0 * (1 - near));
                }

                return new OrderRequest
                {
                    Symbol = inst.Symbol,
                    Side = side,
                    Type = OrderType.TrailingStop,
                    Quantity = quantity,
                    CallbackRate = amount is null ? callback : null,
                    CallbackAmount = amount,
                    ActivationPrice = activation,
                    TriggerBy = by,
                };
            }
        }
    }

    private static decimal LimitBeyond(Instrument inst, OrderSide side, decimal trigger) =>
        side == OrderSide.Buy ? inst.CeilToTick(trigger * 1.002m) : inst.FloorToTick(trigger * 0.998m);

    /// <summary>About 50 USDT of notional, on the lot grid and above the minimums.</summary>
    public static decimal QuantityFor(Instrument inst, decimal price)
    {
        var lots = decimal.Ceiling(50m / price / inst.LotStep);
        return Math.Max(inst.MinQuantity, lots * inst.LotStep);
    }
}

/// <summary>
/// A seeded mean-reverting random walk per symbol, in whole ticks of the instrument: each step is a
/// Gaussian of about 2 bp (at least one tick) pulled back toward the start price, so the price
/// wanders about ±0.5% and a small fraction of the resting orders fire. A step is never zero, so
/// every tick changes the price (a shard only evaluates a changed price). The symbol of each tick is
/// uniform at random.
/// </summary>
internal sealed class RandomWalk
{
    private const double StepBp = 2.0;
    private const double Reversion = 0.001;

    private readonly Random _rng;
    private readonly long[] _offset = new long[Market.Count];
    private readonly double[] _sigma = new double[Market.Count];

    public RandomWalk(int seed)
    {
        _rng = new Random(seed);
        for (var s = 0; s < Market.Count; s++)
            _sigma[s] = Math.Max(1.0, (double)(Market.StartPrices[s] * (decimal)(StepBp / 10_000) / Market.Instruments[s].TickSize));
    }

    /// <summary>Fills the next <paramref name="count"/> ticks into reusable buffers.</summary>
    public void Next(int count, ref int[] symbols, ref decimal[] prices)
    {
        if (symbols.Length < count) symbols = new int[count];
        if (prices.Length < count) prices = new decimal[count];
        for (var i = 0; i < count; i++)
        {
            var s = _rng.Next(Market.Count);
            var step = (long)Math.Round(Gaussian() * _sigma[s] - Reversion * _offset[s]);
            if (step == 0) step = _rng.Next(2) == 0 ? -1 : 1;
            _offset[s] += step;
            symbols[i] = s;
            prices[i] = Market.StartPrices[s] + _offset[s] * Market.Instruments[s].TickSize;
        }
    }

    /// <summary>How far each symbol has wandered, as a fraction of its start price.</summary>
    public IEnumerable<decimal> Deviations() =>
        Enumerable.Range(0, Market.Count).Select(s => _offset[s] * Market.Instruments[s].TickSize / Market.StartPrices[s]);

    private double Gaussian()
    {
        var u1 = 1.0 - _rng.NextDouble();
        var u2 = _rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
