using System.Net;
using Engine.Api;
using Engine.Tests.Api;
using Engine.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Engine.Tests.Postgres;

/// <summary>
/// What an orchestrator sees through /health/live and /health/ready: live as soon as the server answers, ready
/// only once recovery has finished and the store answers. Its own PostgreSQL server (it is stopped and started).
/// </summary>
public sealed class HealthTests : OwnPostgresServerTest
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    [Fact]
    public async Task Ready_StoreDownAtStartThenUpThenDownAgain_TellsTheTruthThroughout()
    {
        var server = Server;
        var connectionString = await server.CreateDatabaseAsync("health");
        await server.StopAsync();
        await using var app = EngineApp.With(new Dictionary<string, string?> { ["ConnectionStrings:Engine"] = connectionString });
        app.WaitUntilReady = false;

        // Store down at start: the process is live, not ready, and refuses work with a clear code.
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/health/live", null)).Status);
        var ready = await app.GetAsync("/health/ready", null);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Status);
        Assert.Equal("starting", ready.Body.Str("status"));
        var refused = await app.PostAsync("/v1/accounts", new { name = "early" }, EngineApp.OperatorKey);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);
        Assert.Equal("engine_starting", refused.Body.Str("code"));

        // The store comes up: the engine's next retry (on the engine clock) finishes starting, and it is ready.
        var engine = app.Services.GetRequiredService<EngineHostedService>();
        await app.Clock.WaitForPendingTimerAsync(Patience);
        Assert.False(engine.Ready.IsCompleted);
        await server.StartAgainAsync();
        app.Clock.Advance(TimeSpan.FromSeconds(10));
        await engine.Ready.WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/health/ready", null)).Status);
        var trader = await app.CreateTraderAsync();

        // The store goes away while nothing is being written: readiness reports it at once.
        await server.StopAsync();
        ready = await app.GetAsync("/health/ready", null);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Status);
        Assert.Equal("storeUnavailable", ready.Body.Str("status"));
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/health/live", null)).Status);

        // Back: the next probe says so (the connections the outage killed do not count against it).
        await server.StartAgainAsync();
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/health/ready", null)).Status);
        (await app.GetAsync($"/v1/accounts/{trader.AccountId}", trader.ApiKey)).Status(HttpStatusCode.OK);
    }
}
