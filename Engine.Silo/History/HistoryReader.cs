using System.Data.Common;
using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.CopyTrading;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Silo.Persistence.Postgres;
using Engine.Silo.Runtime;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Engine.Silo.History;

/// <summary>
/// Reads the history read model with keyset pagination (after a number, in number order), so months of fills
/// are paged straight from PostgreSQL and never loaded whole into memory.
/// </summary>
public sealed class HistoryReader(NpgsqlDataSource db)
{
    private static readonly short[] Finished =
        [(short)OrderStatus.Filled, (short)OrderStatus.Cancelled, (short)OrderStatus.Expired, (short)OrderStatus.Rejected];

    /// <summary>The account's fills numbered after <paramref name="after"/>, oldest first.</summary>
    public Task<IReadOnlyList<Fill>> FillsAsync(AccountId account, string? symbol, long after, int limit, CancellationToken ct) =>
        ReadAsync(() => ReadFillsAsync(account, symbol, after, limit, ct));

    /// <summary>The account's finished orders (filled, cancelled, expired, rejected) numbered after <paramref name="after"/>.</summary>
    public Task<IReadOnlyList<Order>> FinishedOrdersAsync(AccountId account, string? symbol, string? bucket, long after, int limit, CancellationToken ct) =>
        ReadAsync(() => ReadFinishedOrdersAsync(account, symbol, bucket, after, limit, ct));

    /// <summary>A subscription's outcomes for signals numbered after <paramref name="after"/>, oldest first.</summary>
    public Task<IReadOnlyList<CopyOutcomeRecorded>> CopyOutcomesAsync(AccountId account, SubscriptionId subscription, long after, int limit, CancellationToken ct) =>
        ReadAsync<IReadOnlyList<CopyOutcomeRecorded>>(async () =>
        {
            await using var context = EngineDbContext.Create(db);
            return (await context.CopyOutcomeHistory.AsNoTracking()
                    .Where(o => o.AccountId == account.Value && o.SubscriptionId == subscription.Value && o.Sequence > after)
                    .OrderBy(o => o.Sequence).Take(limit).ToListAsync(ct))
                .Select(r => new CopyOutcomeRecorded(subscription, r.Sequence, (CopySignalKind)r.Kind, r.Symbol, r.LeaderQuantity, r.Quantity,
                    (CopyOutcome)r.Outcome, r.Reason, r.OrderNumber, r.LeaderOrder) { At = r.At, Account = account })
                .ToList();
        });

    /// <summary>A failed read is the store being unavailable (503), not an engine fault.</summary>
    private static async Task<T> ReadAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (DbException ex)
        {
            throw new StoreUnavailableException("the history read model could not be read", ex);
        }
    }

    private async Task<IReadOnlyList<Fill>> ReadFillsAsync(AccountId account, string? symbol, long after, int limit, CancellationToken ct)
    {
        await using var context = EngineDbContext.Create(db);
        var rows = context.FillHistory.AsNoTracking().Where(f => f.AccountId == account.Value && f.Number > after);
        if (symbol is not null) rows = rows.Where(f => f.Symbol == symbol);
        return (await rows.OrderBy(f => f.Number).Take(limit).ToListAsync(ct))
            .Select(r => new Fill(r.Number, r.OrderNumber, new BucketId(r.BucketId), r.Symbol, (OrderSide)r.Side, r.Quantity, r.Price, r.Fee,
                r.RealizedPnl, (Liquidity)r.Liquidity, r.At))
            .ToList();
    }

    private async Task<IReadOnlyList<Order>> ReadFinishedOrdersAsync(AccountId account, string? symbol, string? bucket, long after, int limit,
        CancellationToken ct)
    {
        await using var context = EngineDbContext.Create(db);
        var rows = context.OrderHistory.AsNoTracking().Where(o => o.AccountId == account.Value && o.Number > after && Finished.Contains(o.Status));
        if (symbol is not null) rows = rows.Where(o => o.Symbol == symbol);
        if (bucket is not null) rows = rows.Where(o => o.BucketId == bucket);
        return (await rows.OrderBy(o => o.Number).Take(limit).ToListAsync(ct)).Select(HistoryOrders.ToOrder).ToList();
    }
}
