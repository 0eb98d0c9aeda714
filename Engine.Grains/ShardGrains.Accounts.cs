using Engine.Grains.Accounts;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Margin;

namespace Engine.Grains;

public sealed partial class ShardGrains
{
    /// <summary>Largest amount of USDT one request may move; keeps arithmetic far from decimal's limits.</summary>
    public const decimal MaxAmount = 1_000_000_000_000m;

    private CommandResult Decide(OpenAccount c)
    {
        if (_accounts.ContainsKey(c.Account))
            return new CommandResult(Rejection.Business("account_exists", "the account already exists"), []);
        if (string.IsNullOrWhiteSpace(c.Name) || c.Name.Length > 100)
            return new CommandResult(Rejection.Invalid("invalid_name", "name must be 1 to 100 characters"), []);
        Emit(new AccountOpened(c.Name.Trim(), c.ApiKeyHash, BucketId.For(c.Account, 1)) { At = _now, Account = c.Account });
        return Ok(c.Account);
    }

    private CommandResult Decide(Deposit c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (InvalidAmount(c.Amount) is { } bad) return bad;
        Emit(new FundsDeposited(c.Amount) { At = _now, Account = account.Id });
        return Ok(account.Id);
    }

    private CommandResult Decide(Withdraw c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (InvalidAmount(c.Amount) is { } bad) return bad;
        if (c.Amount > account.WalletBalance)
            return Reject(Rejection.Business("insufficient_balance", $"wallet holds {account.WalletBalance}"));
        Emit(new FundsWithdrawn(c.Amount) { At = _now, Account = account.Id });
        return Ok(account.Id);
    }

    private CommandResult Decide(CreateBucket c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (string.IsNullOrWhiteSpace(c.Name) || c.Name.Length > 100)
            return Reject(Rejection.Invalid("invalid_name", "name must be 1 to 100 characters"));
        if (c.Allocation < 0m || c.Allocation > MaxAmount)
            return Reject(Rejection.Invalid("invalid_allocation", "allocation must be between 0 and 1e12"));
        if (c.DailyLossLimit is { } limit && LossLimitProblem(limit) is { } badLimit) return Reject(badLimit);
        if (c.Allocation > account.WalletBalance)
            return Reject(Rejection.Business("insufficient_balance", $"wallet holds {account.WalletBalance}"));
        var id = BucketId.For(account.Id, account.BucketCount + 1);
        Emit(new BucketCreated(id, c.Name.Trim(), c.Kind, c.Allocation) { At = _now, Account = account.Id });
        if (c.DailyLossLimit is not null)
            Emit(new DailyLossLimitSet(id, c.DailyLossLimit, c.Allocation, DayOf(_now)) { At = _now, Account = account.Id });
        return Ok(id);
    }

    private CommandResult Decide(TransferFunds c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (account.FindBucket(c.Bucket) is not { } bucket) return Reject(Rejection.NotFound("bucket not found"));
        if (InvalidAmount(c.Amount) is { } bad) return bad;
        if (c.Direction == TransferDirection.In && c.Amount > account.WalletBalance)
            return Reject(Rejection.Business("insufficient_balance", $"wallet holds {account.WalletBalance}"));
        if (c.Direction == TransferDirection.Out && c.Amount > bucket.Available)
            return Reject(Rejection.Business("insufficient_margin", $"the bucket can give back {bucket.Available}"));
        Emit(new FundsTransferred(bucket.Id, c.Direction, c.Amount) { At = _now, Account = account.Id });
        return Ok(bucket.Id);
    }

    private CommandResult Decide(SetLeverage c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (account.FindBucket(c.Bucket) is not { } bucket) return Reject(Rejection.NotFound("bucket not found"));
        if (Instruments.Find(c.Symbol) is not { } instrument)
            return Reject(Rejection.Invalid("unknown_symbol", $"unknown symbol {c.Symbol}"));
        if (c.Leverage < 1 || c.Leverage > instrument.MaxLeverage)
            return Reject(Rejection.Invalid("invalid_leverage", $"leverage must be 1 to {instrument.MaxLeverage}"));
        if (bucket.Positions.ContainsKey(c.Symbol))
            return Reject(Rejection.Business("position_open", "close the position before changing its leverage"));
        Emit(new LeverageSet(bucket.Id, c.Symbol, c.Leverage) { At = _now, Account = account.Id });
        return Ok(bucket.Id);
    }

    private CommandResult Decide(RecordIdempotentResponse c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (account.Idempotency.ContainsKey(c.Key)) return Ok(null);
        Emit(new IdempotentResponseRecorded(c.Key, c.BodyHash, c.Status, c.Body) { At = _now, Account = account.Id });
        return Ok(null);
    }

    private static CommandResult? InvalidAmount(decimal amount) =>
        amount <= 0m || amount > MaxAmount
            ? Reject(Rejection.Invalid("invalid_amount", "amount must be greater than 0 and at most 1e12"))
            : null;

    private bool TryAccount(AccountId id, out Account account, out CommandResult rejected)
    {
        if (_accounts.TryGetValue(id, out var found))
        {
            account = found;
            rejected = null!;
            return true;
        }

        account = null!;
        rejected = new CommandResult(Rejection.NotFound("account not found"), []);
        return false;
    }

    private static CommandResult Ok(object? value) => new(null, [], value);

    private static CommandResult Reject(Rejection r) => new(r, []);
}
