using System.Net;
using Engine.Tests.Support;
using Engine.Tests.Api;

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

        // The store comes up: the engine finishes starting by itself and becomes ready.
        await server.StartAgainAsync();
        Assert.Equal(HttpStatusCode.OK, await WaitForReadyStatusAsync(app, HttpStatusCode.OK));
        var trader = await app.CreateTraderAsync();

        // The store goes away while nothing is being written: readiness reports it at once.
        await server.StopAsync();
        ready = await app.GetAsync("/health/ready", null);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Status);
        Assert.Equal("storeUnavailable", ready.Body.Str("status"));
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/health/live", null)).Status);

        await server.StartAgainAsync();
        Assert.Equal(HttpStatusCode.OK, await WaitForReadyStatusAsync(app, HttpStatusCode.OK));
        (await app.GetAsync($"/v1/accounts/{trader.AccountId}", trader.ApiKey)).Status(HttpStatusCode.OK);
    }

    private static async Task<HttpStatusCode> WaitForReadyStatusAsync(EngineApp app, HttpStatusCode wanted)
    {
        var deadline = DateTime.UtcNow + Patience;
        HttpStatusCode status;
        do
        {
            status = (await app.GetAsync("/health/ready", null)).Status;
            if (status == wanted) break;
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        return status;
    }
}
