using Engine.Grains.Instruments;

namespace Engine.Grains.Orders;

/// <summary>
/// The embedded paper venue: a taker fills at the index price moved against it by
/// <see cref="Slippage"/> (a fraction), rounded to the tick against the taker. Resting limit orders
/// fill at their own price when the index reaches them (the shard's index book does that).
/// Deterministic, so fills replay exactly.
/// </summary>
public sealed class PaperVenue(decimal slippage) : IExecutionVenue
{
    public decimal Slippage { get; } = slippage >= 0m && slippage < 0.5m
        ? slippage
        : throw new ArgumentOutOfRangeException(nameof(slippage), "slippage must be a fraction in [0, 0.5)");

    public decimal? MarketFillPrice(Instrument instrument, OrderSide side, decimal quantity, Quote quote)
    {
        if (quote.Index is not { } index) return null;
        return side == OrderSide.Buy
            ? instrument.CeilToTick(index * (1m + Slippage))
            : instrument.FloorToTick(index * (1m - Slippage));
    }
}
