using Engine.Grains.Accounts;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Margin;
using Engine.Grains.Orders;

namespace Engine.Grains;

/// <remarks>
/// The day's loss of a bucket is its baseline minus its equity now, where equity is the balance plus
/// the unrealized PnL of its positions at mark (index when there is no mark yet), and the baseline is
/// the equity at the start of the UTC day (or when the limit was set or the lock released) moved by
/// transfers. So realized PnL, fees and unrealized PnL since the day's start all count; transfers do
/// not. A bucket holding a position in a halted symbol is not judged until the symbol resumes.
/// </remarks>
public sealed partial class ShardGrains
{
    private CommandResult Decide(SetDailyLossLimit c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (account.FindBucket(c.Bucket) is not { } bucket) return Reject(Rejection.NotFound("bucket not found"));
        if (c.Limit is { } limit && LossLimitProblem(limit) is { } bad) return Reject(bad);
        Emit(new DailyLossLimitSet(bucket.Id, c.Limit, Equity(bucket), DayOf(_now)) { At = _now, Account = account.Id });
        return Ok(bucket.Id);
    }

    private CommandResult Decide(ReleaseDailyLossLock c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (account.FindBucket(c.Bucket) is not { } bucket) return Reject(Rejection.NotFound("bucket not found"));
        if (bucket.LossLocked) Emit(new DailyLossLockReleased(bucket.Id, Equity(bucket)) { At = _now, Account = account.Id });
        return Ok(bucket.Id);
    }

    private static Rejection? LossLimitProblem(decimal limit) =>
        limit <= 0m || limit > MaxAmount
            ? Rejection.Invalid("invalid_daily_loss_limit", "dailyLossLimit must be greater than 0 and at most 1e12 (null removes it)")
            : null;

    /// <summary>Balance plus unrealized PnL at mark (index, else entry, when there is none).</summary>
    internal decimal Equity(Bucket bucket)
    {
        var equity = bucket.Balance;
        foreach (var (symbol, p) in bucket.Positions)
        {
            var quote = QuoteOf(symbol);
            if ((quote.Mark ?? quote.Index) is { } price) equity += p.UnrealizedPnl(price);
        }

        return equity;
    }

    /// <summary>The loss since the day's start (positive when the bucket lost), or null without a limit.</summary>
    public decimal? DailyLoss(Bucket bucket) => bucket.DailyLossLimit is null ? null : bucket.LossBaseline - Equity(bucket);

    /// <summary>Locks and flattens the bucket when its day's loss has reached its limit.</summary>
    private void CheckLoss(Account account, Bucket bucket)
    {
        if (bucket.DailyLossLimit is not { } limit || bucket.LossLocked) return;
        foreach (var symbol in bucket.Positions.Keys)
            if (IsHalted(symbol)) return;
        var loss = bucket.LossBaseline - Equity(bucket);
        if (loss < limit) return;
        Emit(new DailyLossLimitReached(bucket.Id, loss, limit) { At = _now, Account = account.Id });
        Flatten(account, [bucket], OrderReasons.DailyLossLimit);
    }

    /// <summary>After a command: the account's limited buckets (its fills and transfers change their equity).</summary>
    private void CheckLossLimits(AccountId id)
    {
        if (!_accounts.TryGetValue(id, out var account)) return;
        foreach (var bucket in account.Buckets)
            if (bucket.DailyLossLimit is not null)
                CheckLoss(account, bucket);
    }

    /// <summary>After a symbol's prices: limited buckets holding a position in it.</summary>
    private void CheckLossLimits(string symbol)
    {
        List<Bucket>? hit = null;
        foreach (var bucket in _lossLimited.Values)
            if (!bucket.LossLocked && bucket.DailyLossLimit is { } limit && bucket.Positions.ContainsKey(symbol)
                && bucket.LossBaseline - Equity(bucket) >= limit)
                (hit ??= []).Add(bucket);
        if (hit is null) return;
        foreach (var bucket in hit) CheckLoss(_accounts[AccountOfBucket(bucket.Id)], bucket);
    }

    /// <summary>On the timer: a new UTC day unlocks and re-bases every limited bucket; then every one is checked.</summary>
    private void AdvanceLossLimits()
    {
        var today = DayOf(_now);
        foreach (var bucket in _lossLimited.Values.ToArray())
        {
            var account = _accounts[AccountOfBucket(bucket.Id)];
            if (bucket.LossDay < today)
                Emit(new BucketDayStarted(bucket.Id, today, Equity(bucket)) { At = _now, Account = account.Id });
            CheckLoss(account, bucket);
        }
    }
}
