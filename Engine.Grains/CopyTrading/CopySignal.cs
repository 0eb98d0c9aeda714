using Engine.Grains.Orders;
using Engine.Grains.Pricing;

namespace Engine.Grains.CopyTrading;

/// <summary>
/// What a leader did in its strategy bucket, as followers need it. <see cref="Sequence"/> numbers the
/// strategy's signals (1, 2, ...): with the strategy id it is the signal's stable id.
/// For a fill: <see cref="Side"/>, <see cref="Quantity"/> (base units, positive) and <see cref="Price"/>
/// are the leader's fill; <see cref="PositionBefore"/> and <see cref="PositionAfter"/> the leader's signed
/// position around it; <see cref="LeaderEquity"/> its bucket's equity (USDT) before it; <see cref="Leverage"/>
/// the leverage of the leader's position; <see cref="RealizedPnl"/> and <see cref="Fee"/> (USDT) feed the
/// strategy's statistics. For a protection (take-profit or stop-loss) signal, <see cref="LeaderOrder"/> is the
/// leader's order and the order fields describe it.
/// </summary>
public sealed record CopySignal
{
    public required long Sequence { get; init; }
    public required CopySignalKind Kind { get; init; }
    public required string Symbol { get; init; }
    public required OrderSide Side { get; init; }
    public required decimal Quantity { get; init; }
    public decimal Price { get; init; }
    public decimal PositionBefore { get; init; }
    public decimal PositionAfter { get; init; }
    public decimal LeaderEquity { get; init; }
    public int Leverage { get; init; }
    public decimal RealizedPnl { get; init; }
    public decimal Fee { get; init; }
    public long? LeaderOrder { get; init; }
    public OrderType OrderType { get; init; }
    public decimal? TriggerPrice { get; init; }
    public decimal? LimitPrice { get; init; }
    public TriggerSource TriggerBy { get; init; }
    public bool ClosePosition { get; init; }

    /// <summary>The signal's id as clients see it.</summary>
    public static string IdOf(StrategyId strategy, long sequence) => $"{strategy.Value}-g{sequence}";

    /// <summary>The sequence of <paramref name="id"/> when it is a signal id of <paramref name="strategy"/>.</summary>
    public static bool TryParseId(StrategyId strategy, string id, out long sequence)
    {
        sequence = 0;
        var prefix = strategy.Value + "-g";
        return id.StartsWith(prefix, StringComparison.Ordinal)
            && long.TryParse(id.AsSpan(prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out sequence);
    }
}
