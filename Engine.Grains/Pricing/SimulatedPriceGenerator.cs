using Engine.Grains.Instruments;

namespace Engine.Grains.Pricing;

/// <summary>
/// A deterministic simulated feed: per symbol a random walk of a "true" price, quoted by several
/// sources that each disagree with it slightly, one of which now and then prints a one-step wick.
/// Single-writer: the caller serializes access.
/// </summary>
/// <remarks>
/// Randomness comes from a seeded <see cref="Random"/> and is turned into decimal fractions before it
/// touches a price, so the same seed and the same calls give the same ticks.
/// </remarks>
public sealed class SimulatedPriceGenerator
{
    // Uniform draws are whole numbers over this scale, so prices never go through binary floating point.
    private const int UniformScale = 1_000_000;

    // The unrounded walk would otherwise gain digits every step until decimal's precision runs out.
    private const int WalkDecimals = 12;

    private const int MaxSources = 26;

    private readonly Random _random;
    private readonly SymbolWalk[] _walks;
    private readonly decimal _stepVolatility;
    private readonly decimal _sourceDisagreement;
    private readonly int _wickOneIn;
    private readonly decimal _wickSize;

    /// <param name="seed">Same seed, same ticks.</param>
    /// <param name="symbols">Symbols with their start price and tick size; ticks come out in this order.</param>
    /// <param name="sourcesPerSymbol">1 to 26 sources, named "sim-a", "sim-b", ….</param>
    /// <param name="stepVolatility">Each step moves the true price by a uniform fraction in ±this.</param>
    /// <param name="sourceDisagreement">Each source quotes the true price off by a uniform fraction in ±this.</param>
    /// <param name="wickOneIn">Each symbol wicks on average once in this many steps; 0 turns wicks off.
    /// A whole "one in N" rather than a probability keeps floating point out of the domain.</param>
    /// <param name="wickSize">A wicking source quotes the true price off by exactly ±this fraction for one step.</param>
    public SimulatedPriceGenerator(
        int seed,
        IEnumerable<(string Symbol, decimal StartPrice, decimal TickSize)> symbols,
        int sourcesPerSymbol = 3,
        decimal stepVolatility = 0.0005m,
        decimal sourceDisagreement = 0.0002m,
        int wickOneIn = 500,
        decimal wickSize = 0.03m)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        ArgumentOutOfRangeException.ThrowIfLessThan(sourcesPerSymbol, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sourcesPerSymbol, MaxSources);
        ArgumentOutOfRangeException.ThrowIfNegative(stepVolatility);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(stepVolatility, 1m);
        ArgumentOutOfRangeException.ThrowIfNegative(sourceDisagreement);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sourceDisagreement, 1m);
        ArgumentOutOfRangeException.ThrowIfNegative(wickOneIn);
        ArgumentOutOfRangeException.ThrowIfNegative(wickSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(wickSize, 1m);

        var walks = new List<SymbolWalk>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (symbol, startPrice, tickSize) in symbols)
        {
            ArgumentException.ThrowIfNullOrEmpty(symbol, nameof(symbols));
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(startPrice, nameof(symbols));
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tickSize, nameof(symbols));
            if (!seen.Add(symbol))
            {
                throw new ArgumentException($"Symbol '{symbol}' is listed twice.", nameof(symbols));
            }

            walks.Add(new SymbolWalk(symbol, tickSize, startPrice));
        }

        _random = new Random(seed);
        _walks = [.. walks];
        _stepVolatility = stepVolatility;
        _sourceDisagreement = sourceDisagreement;
        _wickOneIn = wickOneIn;
        _wickSize = wickSize;
        SourceNames = Enumerable.Range(0, sourcesPerSymbol).Select(i => $"sim-{(char)('a' + i)}").ToArray();
    }

    public IReadOnlyList<string> SourceNames { get; }

    /// <summary>
    /// Advances one step and returns one tick per source per symbol, stamped <paramref name="now"/>,
    /// symbols in construction order and sources in name order. Prices lie on each symbol's tick grid
    /// and are at least one tick.
    /// </summary>
    public IReadOnlyList<PriceTick> Next(DateTimeOffset now)
    {
        var sourceCount = SourceNames.Count;
        var ticks = new PriceTick[_walks.Length * sourceCount];
        var k = 0;

        foreach (var walk in _walks)
        {
            var moved = walk.TruePrice * (1m + (_stepVolatility * NextUniform()));
            walk.TruePrice = Math.Max(decimal.Round(moved, WalkDecimals), walk.TickSize);

            var wickSource = -1;
            var wickFactor = 1m;
            if (_wickOneIn > 0 && _random.Next(_wickOneIn) == 0)
            {
                wickSource = _random.Next(sourceCount);
                wickFactor = _random.Next(2) == 0 ? 1m - _wickSize : 1m + _wickSize;
            }

            for (var source = 0; source < sourceCount; source++)
            {
                var factor = source == wickSource ? wickFactor : 1m + (_sourceDisagreement * NextUniform());
                var price = RoundToTick(walk.TruePrice * factor, walk.TickSize);
                ticks[k++] = new PriceTick(SourceNames[source], walk.Symbol, price, now);
            }
        }

        return ticks;
    }

    /// <summary>
    /// Plausible start prices for the catalog's instruments, on their tick grids; symbols without a
    /// known level start at 100.
    /// </summary>
    public static IReadOnlyList<(string Symbol, decimal StartPrice, decimal TickSize)> DefaultStartPrices(
        InstrumentCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return catalog.All
            .Select(i => (i.Symbol, RoundToTick(KnownStartPrice(i.Symbol), i.TickSize), i.TickSize))
            .ToArray();
    }

    private static decimal KnownStartPrice(string symbol) => symbol switch
    {
        "BTC-USDT" => 97_000m,
        "ETH-USDT" => 3_400m,
        "SOL-USDT" => 190m,
        "BNB-USDT" => 650m,
        "XRP-USDT" => 2.2m,
        "ARB-USDT" => 0.75m,
        "OP-USDT" => 1.9m,
        "POL-USDT" => 0.45m,
        "FET-USDT" => 1.3m,
        "RENDER-USDT" => 7m,
        _ => 100m,
    };

    private static decimal RoundToTick(decimal price, decimal tickSize) =>
        Math.Max(decimal.Round(price / tickSize, 0, MidpointRounding.AwayFromZero) * tickSize, tickSize);

    /// <summary>A uniform fraction in [-1, 1].</summary>
    private decimal NextUniform() => (decimal)_random.Next(-UniformScale, UniformScale + 1) / UniformScale;

    private sealed class SymbolWalk(string symbol, decimal tickSize, decimal truePrice)
    {
        public string Symbol { get; } = symbol;

        public decimal TickSize { get; } = tickSize;

        public decimal TruePrice { get; set; } = truePrice;
    }
}
