namespace Engine.Grains;

/// <summary>
/// Turns the kill switch on for the account (<paramref name="Bucket"/> null) or one bucket: every order
/// in scope is cancelled, every position closed, and new orders there are refused until released.
/// </summary>
public sealed record EngageKillSwitch(BucketId? Bucket) : Command;

public sealed record ReleaseKillSwitch(BucketId? Bucket) : Command;

/// <summary>The dead man's switch: cancel the account's entry orders unless called again within <paramref name="TimeoutSeconds"/>; 0 disarms it.</summary>
public sealed record SetCancelAllAfter(int TimeoutSeconds) : Command;

/// <summary>A bucket's daily loss limit in USDT; null removes it.</summary>
public sealed record SetDailyLossLimit(BucketId Bucket, decimal? Limit) : Command;

/// <summary>Ends a bucket's daily-loss lock before the next UTC day.</summary>
public sealed record ReleaseDailyLossLock(BucketId Bucket) : Command;
