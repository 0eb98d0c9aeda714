namespace Engine.Grains.Orders;

public enum OrderSide : byte
{
    Buy = 0,
    Sell = 1,
}

public enum OrderType : byte
{
    Market = 0,
    Limit = 1,
    Stop = 2,
    StopLimit = 3,
    TakeProfit = 4,
    TakeProfitLimit = 5,
    TrailingStop = 6,
}

public enum TimeInForce : byte
{
    Gtc = 0,
    Ioc = 1,
    Fok = 2,
    Gtd = 3,
}

public enum OrderStatus : byte
{
    /// <summary>Waiting for its trigger, its activation price or its parent's fill.</summary>
    Untriggered = 0,
    /// <summary>A resting limit order.</summary>
    Open = 1,
    Filled = 2,
    Cancelled = 3,
    Expired = 4,
    Rejected = 5,
}

/// <summary>Where an untriggered or open order sits; finer than the public status.</summary>
public enum OrderPhase : byte
{
    /// <summary>Waits for its parent (OTO primary, bracket entry, straddle side) to fill; not in any book.</summary>
    Pending = 0,
    /// <summary>In the trigger book at its trigger price.</summary>
    Waiting = 1,
    /// <summary>A trailing stop in the trigger book at its activation price.</summary>
    AwaitingActivation = 2,
    /// <summary>A trailing stop following the extreme.</summary>
    Trailing = 3,
    /// <summary>A limit order resting in the index book at its limit price.</summary>
    Resting = 4,
    /// <summary>A triggered market-type order between its trigger and its fill or rejection.</summary>
    Executing = 5,
    /// <summary>Filled, cancelled, expired or rejected.</summary>
    Done = 6,
    /// <summary>A wick-protected order whose trigger held: out of the book until its confirmation ends.</summary>
    Confirming = 7,
}

public enum OrderListType
{
    Oco = 0,
    Oto = 1,
    Bracket = 2,
    Straddle = 3,
}

public enum Liquidity
{
    Maker = 0,
    Taker = 1,
    Liquidation = 2,
}

public static class OrderSideExtensions
{
    public static OrderSide Opposite(this OrderSide side) => side == OrderSide.Buy ? OrderSide.Sell : OrderSide.Buy;

    /// <summary>+1 for buy, -1 for sell: the sign a fill adds to a signed position.</summary>
    public static int Sign(this OrderSide side) => side == OrderSide.Buy ? 1 : -1;
}

/// <summary>The stable reason codes orders carry when cancelled, expired or rejected.</summary>
public static class OrderReasons
{
    public const string User = "user";
    public const string OcoSiblingTriggered = "oco_sibling_triggered";
    public const string PrimaryNotFilled = "primary_not_filled";
    public const string PositionClosed = "position_closed";
    public const string InsufficientMargin = "insufficient_margin";
    public const string ReduceOnlyWouldIncrease = "reduce_only_would_increase";
    public const string NoPosition = "no_position";
    public const string IocNotFilled = "ioc_not_filled";
    public const string FokNotFilled = "fok_not_filled";
    public const string GtdExpired = "gtd_expired";
    public const string NoPrice = "no_price";
    public const string BelowMinimum = "below_minimum";
    public const string PlanDisarmed = "plan_disarmed";
    public const string PlanCancelled = "plan_cancelled";
    /// <summary>Cancelled by the account's or the bucket's kill switch.</summary>
    public const string KillSwitch = "kill_switch";
    /// <summary>An entry order cancelled by the dead man's switch (cancel-all-after).</summary>
    public const string CancelAllAfter = "cancel_all_after";
    /// <summary>Cancelled when its bucket reached its daily loss limit.</summary>
    public const string DailyLossLimit = "daily_loss_limit";
    /// <summary>A market order that could not execute because its symbol is halted.</summary>
    public const string SymbolHalted = "symbol_halted";
    /// <summary>A triggered stop-limit's gap fallback: not filled within its time.</summary>
    public const string FallbackTimeout = "fallback_timeout";
    /// <summary>A triggered stop-limit's gap fallback: the index ran past its worst price.</summary>
    public const string FallbackWorstPrice = "fallback_worst_price";
    /// <summary>
    /// For copy trading (not built yet): a signal for a locked follower bucket (kill switch or daily
    /// loss) is skipped with this reason, which is how a kill switch pauses a copy subscription.
    /// </summary>
    public const string BucketLocked = "bucket_locked";
}
