using System.Collections.Frozen;

namespace Engine.Grains.Instruments;

/// <summary>The instruments an engine trades; immutable once built.</summary>
public sealed class InstrumentCatalog
{
    private readonly FrozenDictionary<string, Instrument> _bySymbol;

    public InstrumentCatalog(IEnumerable<Instrument> instruments)
    {
        All = instruments.OrderBy(i => i.Symbol, StringComparer.Ordinal).ToArray();
        _bySymbol = All.ToFrozenDictionary(i => i.Symbol, StringComparer.Ordinal);
    }

    public IReadOnlyList<Instrument> All { get; }

    public Instrument? Find(string symbol) => _bySymbol.GetValueOrDefault(symbol);

    /// <summary>
    /// The default set: the majors and liquid Layer-2 and AI tokens. Figures follow the usual
    /// perpetual venues' contract specifications.
    /// </summary>
    public static InstrumentCatalog Default { get; } = new(
    [
        new("BTC-USDT", 0.1m, 0.001m, 0.001m, 5m, 125, 0.004m, 0.0002m, 0.0005m),
        new("ETH-USDT", 0.01m, 0.001m, 0.001m, 5m, 100, 0.005m, 0.0002m, 0.0005m),
        new("SOL-USDT", 0.01m, 0.01m, 0.01m, 5m, 75, 0.01m, 0.0002m, 0.0005m),
        new("BNB-USDT", 0.01m, 0.01m, 0.01m, 5m, 75, 0.01m, 0.0002m, 0.0005m),
        new("XRP-USDT", 0.0001m, 0.1m, 0.1m, 5m, 75, 0.01m, 0.0002m, 0.0005m),
        new("ARB-USDT", 0.0001m, 0.1m, 0.1m, 5m, 50, 0.015m, 0.0002m, 0.0005m),
        new("OP-USDT", 0.0001m, 0.1m, 0.1m, 5m, 50, 0.015m, 0.0002m, 0.0005m),
        new("POL-USDT", 0.0001m, 1m, 1m, 5m, 50, 0.015m, 0.0002m, 0.0005m),
        new("FET-USDT", 0.0001m, 1m, 1m, 5m, 50, 0.015m, 0.0002m, 0.0005m),
        new("RENDER-USDT", 0.001m, 0.1m, 0.1m, 5m, 50, 0.015m, 0.0002m, 0.0005m),
    ]);
}
