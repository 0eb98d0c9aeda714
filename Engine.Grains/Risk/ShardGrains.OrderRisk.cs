using Engine.Grains.Common;
using Engine.Grains.Instruments;
using Engine.Grains.Orders;
using Engine.Grains.Risk;

namespace Engine.Grains;

/// <summary>An order's own risk fields (wick protection, gap fallback) and the price band.</summary>
public sealed partial class ShardGrains
{
    /// <summary>Checks triggerConfirmation and fallback against the order's type and prices; null when valid.</summary>
    private static Rejection? RiskFieldsProblem(Instrument inst, OrderRequest r)
    {
        if (r.TriggerConfirmation is { } wait)
        {
            if (r.Type is not (OrderType.Stop or OrderType.StopLimit or OrderType.TakeProfit or OrderType.TakeProfitLimit))
                return Rejection.Invalid("invalid_trigger_confirmation", "triggerConfirmation is for stop, stopLimit, takeProfit and takeProfitLimit orders");
            if (wait <= TimeSpan.Zero || wait > MaxTriggerConfirmation)
                return Rejection.Invalid("invalid_trigger_confirmation", $"triggerConfirmation must be longer than 0 and at most {MaxTriggerConfirmation}");
        }

        if (r.Fallback is not { } fallback) return null;
        if (r.Type is not (OrderType.StopLimit or OrderType.TakeProfitLimit))
            return Rejection.Invalid("invalid_fallback", "fallback is for stopLimit and takeProfitLimit orders");
        if (fallback.After is null && fallback.WorstPrice is null)
            return Rejection.Invalid("invalid_fallback", "fallback needs after, worstPrice or both");
        if (!Enum.IsDefined(fallback.Action)) return Rejection.Invalid("invalid_fallback", "fallback.action must be market or cancel");
        if (fallback.After is { } after && (after <= TimeSpan.Zero || after > MaxFallbackAfter))
            return Rejection.Invalid("invalid_fallback", $"fallback.after must be longer than 0 and at most {MaxFallbackAfter}");
        if (fallback.WorstPrice is { } worst)
        {
            if (worst <= 0m || worst > MaxNumber || !inst.IsOnTick(worst))
                return Rejection.Invalid("invalid_fallback", $"fallback.worstPrice must be a price above 0 on the tick size {inst.TickSize}");
            if (r.Price is { } limit && WorstPriceInside(r.Side, worst, limit))
                return Rejection.Invalid("invalid_fallback", $"fallback.worstPrice must be at or {(r.Side == OrderSide.Sell ? "below" : "above")} the limit price {limit}");
        }

        return null;
    }

    /// <summary>A worst price on the good side of the limit would convert a limit that can still fill.</summary>
    private static bool WorstPriceInside(OrderSide side, decimal worst, decimal limit) =>
        side == OrderSide.Sell ? worst > limit : worst < limit;

    /// <summary>
    /// The price band for a new order's limit price: with policy reject, a price outside it refuses
    /// the order; with clamp, the price moves to the band's edge. Null when the order may go on.
    /// </summary>
    private Rejection? Band(ref OrderSpec spec)
    {
        if (Options.PriceBand <= 0m || spec.Price is not { } price) return null;
        var reference = spec.Type == OrderType.Limit ? QuoteOf(spec.Symbol).Index : spec.TriggerPrice;
        if (reference is not { } r || BandEdge(InstrumentOf(spec.Symbol), spec.Side, price, r) is not { } edge) return null;
        if (Options.PriceBandPolicy == PriceBandPolicy.Clamp)
        {
            spec = spec with { Price = edge };
            return null;
        }

        return OutOfBand(spec.Side, price, edge);
    }

    /// <summary>An amended limit or trigger price: the band again, and a gap fallback's worst price must stay beyond the limit.</summary>
    private Rejection? AmendProblem(Order order, ref decimal? price, decimal? trigger)
    {
        if (price is not { } limit) return null;
        if (Options.PriceBand > 0m)
        {
            var reference = order.Type == OrderType.Limit || order.Phase == OrderPhase.Resting ? QuoteOf(order.Symbol).Index : trigger;
            if (reference is { } r && BandEdge(InstrumentOf(order.Symbol), order.Side, limit, r) is { } edge)
            {
                if (Options.PriceBandPolicy == PriceBandPolicy.Reject) return OutOfBand(order.Side, limit, edge);
                price = limit = edge;
            }
        }

        if (order.Spec.Fallback?.WorstPrice is { } worst && WorstPriceInside(order.Side, worst, limit))
            return Rejection.Invalid("invalid_price", $"the price would pass the fallback's worst price {worst}");
        return null;
    }

    /// <summary>The band's edge when <paramref name="price"/> is beyond it (a buy too high, a sell too low), else null.</summary>
    private decimal? BandEdge(Instrument inst, OrderSide side, decimal price, decimal reference)
    {
        if (side == OrderSide.Buy)
        {
            var highest = inst.FloorToTick(reference * (1m + Options.PriceBand));
            return price > highest ? highest : null;
        }

        var lowest = Math.Max(inst.TickSize, inst.CeilToTick(reference * (1m - Options.PriceBand)));
        return price < lowest ? lowest : null;
    }

    private Rejection OutOfBand(OrderSide side, decimal price, decimal edge) =>
        Rejection.Business("price_out_of_band", side == OrderSide.Buy
            ? $"a buy limit of {price} is above the price band (at most {edge}, {Options.PriceBand} above its reference)"
            : $"a sell limit of {price} is below the price band (at least {edge}, {Options.PriceBand} below its reference)");
}
