using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Engine.Tests.Support;
using Engine.Tests.Api;

namespace Engine.Tests.Postgres;

/// <summary>
/// PostgreSQL stops under load and comes back, with the engine (real HTTP pipeline) running throughout: while it
/// is down, commands are refused with 503 store_unavailable and readiness says so; once it is back the engine
/// recovers by itself, without a restart, holding every acknowledged order and nothing that was never sent.
/// Its own server (it is stopped), not the shared one.
/// </summary>
public sealed class PostgresOutageTests : OwnPostgresServerTest
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    [Theory]
    [InlineData("fast")]
    [InlineData("immediate")]
    public async Task Commands_PostgresStoppedUnderLoad_503ThenEngineRecoversWithoutRestart(string stopMode)
    {
        var server = Server;
        var connectionString = await server.CreateDatabaseAsync("outage_" + stopMode);
        await using var app = EngineApp.With(new Dictionary<string, string?> { ["ConnectionStrings:Engine"] = connectionString });
        var traders = new List<Trader>();
        for (var i = 0; i < 4; i++) traders.Add(await app.CreateTraderAsync($"t{i}", "100000", "50000"));
        await app.SetPriceAsync("BTC-USDT", "60000");

        var sent = new ConcurrentDictionary<string, Sent>();
        var acknowledged = 0;
        var refused = 0;
        var stop = new CancellationTokenSource();
        var loops = Enumerable.Range(0, 8).Select(loop => Task.Run(async () =>
        {
            var trader = traders[loop % traders.Count];
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var cid = $"L{loop}-{n:D5}";
                var (status, body) = await app.PostAsync($"{trader.Path}/orders", new
                {
                    symbol = "BTC-USDT", side = "buy", type = "stop", quantity = "0.001",
                    triggerPrice = (90_000m + loop * 100m + n % 500 * 0.1m).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    clientOrderId = cid,
                }, trader.ApiKey);
                sent[cid] = new Sent(trader, status, body);
                if (status == HttpStatusCode.Created) Interlocked.Increment(ref acknowledged);
                else if (status == HttpStatusCode.ServiceUnavailable)
                {
                    Interlocked.Increment(ref refused);
                    // Fail fast, not a busy loop against a store that is down.
                    await Task.Delay(5);
                }
            }
        })).ToArray();

        await WaitUntilAsync(() => Volatile.Read(ref acknowledged) >= 200, "no load before the outage");
        await server.StopAsync(stopMode);
        var ackedBeforeOutage = Volatile.Read(ref acknowledged);

        await WaitUntilAsync(() => Volatile.Read(ref refused) >= 20, "commands were not refused while PostgreSQL was down");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Http.GetAsync("/health/ready")).StatusCode);
        var outage = sent.Values.First(s => s.Status == HttpStatusCode.ServiceUnavailable);
        Assert.Equal("store_unavailable", outage.Body.GetProperty("code").GetString());

        await server.StartAgainAsync();
        await WaitUntilAsync(async () => (await app.Http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK, "the engine did not become ready again");
        var ackedAtRecovery = Volatile.Read(ref acknowledged);
        await WaitUntilAsync(() => Volatile.Read(ref acknowledged) >= ackedAtRecovery + 200, "no commands succeeded after the recovery");
        await stop.CancelAsync();
        await Task.WhenAll(loops);

        var unexpected = sent.Where(s => s.Value.Status is not (HttpStatusCode.Created or HttpStatusCode.ServiceUnavailable)).Take(3).ToArray();
        Assert.True(unexpected.Length == 0, "unexpected answers: " + string.Join("; ", unexpected.Select(u => $"{u.Key} {(int)u.Value.Status} {u.Value.Body}")));
        Assert.True(ackedBeforeOutage >= 200);

        // Every acknowledged order is there as acknowledged; any other open order is a request that was refused
        // while its batch's commit answer was lost (the store kept it), whole; nothing else exists.
        foreach (var trader in traders)
        {
            var (status, open) = await app.GetAsync($"{trader.Path}/orders?status=open", trader.ApiKey);
            Assert.Equal(HttpStatusCode.OK, status);
            var byCid = open.EnumerateArray().ToDictionary(o => o.GetProperty("clientOrderId").GetString()!);
            foreach (var (cid, s) in sent.Where(s => s.Value.Trader == trader))
            {
                if (s.Status == HttpStatusCode.Created)
                {
                    Assert.True(byCid.TryGetValue(cid, out var order), $"acknowledged order {cid} is missing after the outage");
                    Assert.Equal(s.Body.GetProperty("orderId").GetString(), order.GetProperty("orderId").GetString());
                    Assert.Equal("untriggered", order.GetProperty("status").GetString());
                }
            }

            foreach (var (cid, order) in byCid)
            {
                Assert.True(sent.TryGetValue(cid, out var s) && s.Trader == trader, $"open order {cid} was never sent by this trader");
                Assert.Equal("0.001", order.GetProperty("quantity").GetString());
            }
        }

        // The engine keeps working on the recovered state, and a restart finds exactly the same.
        var before = await Task.WhenAll(traders.Select(t => app.SnapshotAsync(t.AccountId, t.ApiKey)));
        await app.DisposeAsync();
        await using var restarted = EngineApp.With(new Dictionary<string, string?> { ["ConnectionStrings:Engine"] = connectionString });
        var after = await Task.WhenAll(traders.Select(t => restarted.SnapshotAsync(t.AccountId, t.ApiKey)));
        Assert.Equal(before, after);
    }

    private static Task WaitUntilAsync(Func<bool> condition, string failure) => WaitUntilAsync(() => Task.FromResult(condition()), failure);

    /// <summary>Polls a condition the engine reaches on its own (recovery retries on the real clock), bounded.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Patience, failure);
            await Task.Delay(20);
        }
    }

    private sealed record Sent(Trader Trader, HttpStatusCode Status, JsonElement Body);
}
