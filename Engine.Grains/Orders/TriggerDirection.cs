namespace Engine.Grains.Orders;

/// <summary>
/// Which way the price must move for a trigger to fire: <see cref="Rise"/> fires when the price is
/// at or above the trigger, <see cref="Fall"/> when it is at or below.
/// </summary>
public enum TriggerDirection
{
    Rise = 0,
    Fall = 1,
}
