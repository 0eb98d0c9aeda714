using Engine.Grains.Common;
using Engine.Grains.Instruments;
using Engine.Grains.Orders;

namespace Engine.Grains.Plans;

/// <summary>
/// A position sized for a stop. <see cref="Quantity"/> in base units (a multiple of the lot step);
/// <see cref="Notional"/> = quantity × entry price and <see cref="Margin"/> = notional / leverage, in
/// USDT; <see cref="LiquidationPrice"/> of the isolated position (null when it cannot be reached);
/// <see cref="LossAtStop"/> is what a stop-out costs: the price move plus taker fees on both fills.
/// </summary>
public sealed record PositionSize(OrderSide Side, decimal Quantity, decimal Notional, decimal Margin, decimal? LiquidationPrice, decimal LossAtStop);

/// <summary>
/// Position sizing by risk, shared by the calculator endpoint and the plans' arm step. The quantity
/// risks <c>equity × riskFraction</c> between entry and stop, taker fees on the entry and the stop
/// included; it is capped by what the equity can margin at the leverage (fee included), and rounded
/// down to the lot step. A stop at or beyond the liquidation price is refused: it would never protect.
/// </summary>
public static class PositionSizing
{
    public static (PositionSize? Size, Rejection? Rejection) Calculate(Instrument instrument, decimal equity, decimal riskFraction, decimal entry, decimal stop, int leverage)
    {
        if (equity <= 0m || equity > ShardGrains.MaxAmount)
            return (null, Rejection.Invalid("invalid_equity", "equity must be greater than 0 and at most 1e12"));
        if (riskFraction <= 0m || riskFraction > 1m)
            return (null, Rejection.Invalid("invalid_risk_fraction", "riskFraction must be greater than 0 and at most 1"));
        if (PriceProblem(entry) is { } badEntry) return (null, Rejection.Invalid("invalid_entry_price", "entryPrice " + badEntry));
        if (PriceProblem(stop) is { } badStop) return (null, Rejection.Invalid("invalid_stop_price", "stopPrice " + badStop));
        if (stop == entry) return (null, Rejection.Invalid("invalid_stop_price", "stopPrice must differ from entryPrice"));
        if (leverage < 1 || leverage > instrument.MaxLeverage)
            return (null, Rejection.Invalid("invalid_leverage", $"leverage must be 1 to {instrument.MaxLeverage}"));

        var side = stop < entry ? OrderSide.Buy : OrderSide.Sell;
        var fee = instrument.TakerFeeRate;
        var perUnit = Math.Abs(entry - stop) + (entry + stop) * fee;
        var byRisk = equity * riskFraction / perUnit;
        var byMargin = equity / (entry * (1m / leverage + fee));
        var quantity = instrument.FloorToLot(Math.Min(byRisk, byMargin));
        var notional = quantity * entry;
        if (quantity < instrument.MinQuantity || notional < instrument.MinNotional)
            return (null, Rejection.Business("below_minimum",
                $"the risk allows {quantity} {instrument.Symbol}, below the minimum quantity {instrument.MinQuantity} or notional {instrument.MinNotional}"));
        if (StopBeyondLiquidation(instrument, side, quantity, entry, stop, leverage, out var liquidation) is { } beyond) return (null, beyond);

        var margin = Money.Round(notional / leverage);
        var loss = quantity * Math.Abs(entry - stop) + Money.Round(quantity * entry * fee) + Money.Round(quantity * stop * fee);
        return (new PositionSize(side, quantity, notional, margin, liquidation, loss), null);
    }

    /// <summary>
    /// Refuses a stop at or beyond where a <paramref name="side"/> position entered at <paramref name="entry"/>
    /// with isolated margin notional / <paramref name="leverage"/> would be liquidated.
    /// </summary>
    public static Rejection? StopBeyondLiquidation(Instrument instrument, OrderSide side, decimal quantity, decimal entry, decimal stop, int leverage, out decimal? liquidation)
    {
        liquidation = ShardGrains.LiquidationPrice(instrument, side.Sign() * quantity, entry, Money.Round(quantity * entry / leverage));
        return liquidation is { } l && (side == OrderSide.Buy ? stop <= l : stop >= l)
            ? Rejection.Business("stop_beyond_liquidation", $"the stop {stop} is at or beyond the liquidation price {l} at leverage {leverage}")
            : null;
    }

    private static string? PriceProblem(decimal price) =>
        price <= 0m || price > ShardGrains.MaxNumber ? $"must be greater than 0 and at most {ShardGrains.MaxNumber}" : null;
}
