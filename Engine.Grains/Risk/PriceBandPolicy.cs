namespace Engine.Grains.Risk;

/// <summary>What the price band does with a limit price outside it.</summary>
public enum PriceBandPolicy : byte
{
    /// <summary>The order is refused (422 <c>price_out_of_band</c>).</summary>
    Reject = 0,
    /// <summary>The price is moved to the band's edge (on the tick grid) and the order accepted.</summary>
    Clamp = 1,
}
