namespace Engine.Grains.Orders;

/// <summary>The fixed relations between an order's type, side and trigger direction.</summary>
public static class OrderRules
{
    /// <summary>
    /// A buy stop fires when the price rises to its trigger and a sell stop when it falls to it;
    /// take-profits are the reverse; a trailing buy fires on a rise from the low, a trailing sell on
    /// a fall from the high.
    /// </summary>
    public static TriggerDirection FireDirection(OrderType type, OrderSide side) => type switch
    {
        OrderType.Stop or OrderType.StopLimit or OrderType.TrailingStop =>
            side == OrderSide.Buy ? TriggerDirection.Rise : TriggerDirection.Fall,
        OrderType.TakeProfit or OrderType.TakeProfitLimit =>
            side == OrderSide.Buy ? TriggerDirection.Fall : TriggerDirection.Rise,
        // A resting buy limit fills when the price falls to it, a sell limit when it rises to it.
        _ => side == OrderSide.Buy ? TriggerDirection.Fall : TriggerDirection.Rise,
    };

    /// <summary>A trailing sell starts following once the price has risen to its activation price.</summary>
    public static TriggerDirection ActivationDirection(OrderSide side) =>
        side == OrderSide.Buy ? TriggerDirection.Fall : TriggerDirection.Rise;

    public static TriggerDirection RestingDirection(OrderSide side) =>
        side == OrderSide.Buy ? TriggerDirection.Fall : TriggerDirection.Rise;

    public static bool Holds(TriggerDirection direction, decimal price, decimal trigger) =>
        direction == TriggerDirection.Rise ? price >= trigger : price <= trigger;

}
