using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Engine.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Engine.Api;

namespace Engine.Tests.Api;

/// <summary>
/// The real engine (HTTP pipeline and in-process silo) on a test server: a fresh data folder per
/// instance, no simulated feed, no slippage, two shards, a known operator key and a clock that
/// moves only when a test advances it. Circuit breakers are off (these tests move prices in big
/// steps on purpose); the risk tests turn them on with their own settings.
/// </summary>
public class EngineApp : WebApplicationFactory<Program>
{
    public const string OperatorKey = "op-test";

    private readonly Lazy<HttpClient> _client;
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly bool _ownsData;

    public EngineApp()
        : this(null, null, null)
    {
    }

    /// <summary>An engine on a given data folder, clock or settings (internal: xunit fixtures need the single public constructor above).</summary>
    /// <param name="dataDirectory">An existing data folder to run on (kept at dispose), or null for a fresh one (deleted at dispose).</param>
    /// <param name="clock">The engine clock, or null for a new one.</param>
    /// <param name="settings">Configuration on top of the defaults below (for example <c>Engine:TimerInterval</c>).</param>
    internal EngineApp(string? dataDirectory, ManualTimeProvider? clock, IReadOnlyDictionary<string, string?>? settings)
    {
        _ownsData = dataDirectory is null;
        DataDirectory = dataDirectory ?? NewDataDirectory();
        Clock = clock ?? new ManualTimeProvider();
        _settings = settings ?? new Dictionary<string, string?>();
        _client = new Lazy<HttpClient>(() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }));
    }

    /// <summary>A subclass's engine: a fresh data folder and clock, with its own settings.</summary>
    protected EngineApp(IReadOnlyDictionary<string, string?> settings)
        : this(null, null, settings)
    {
    }

    /// <summary>An engine with extra settings, optionally on the data folder and clock of one that ran before (a restart).</summary>
    public static EngineApp With(IReadOnlyDictionary<string, string?> settings, string? dataDirectory = null, ManualTimeProvider? clock = null) =>
        new(dataDirectory, clock, settings);

    public static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), "engine-api-tests", Guid.NewGuid().ToString("N"));

    public string DataDirectory { get; }

    /// <summary>The engine's clock; Advance fires its timers (the 100 ms GTD expiry timer among them).</summary>
    public ManualTimeProvider Clock { get; }

    /// <summary>Whether creating the client waits until the engine has recovered (false: a test watches it start).</summary>
    public bool WaitUntilReady { get; set; } = true;

    /// <summary>Leaves the data folder behind on dispose, for a restart on it.</summary>
    public bool KeepData { get; set; }

    public HttpClient Http => _client.Value;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Engine:DataDirectory"] = DataDirectory,
            ["Engine:SimulatedFeed:Enabled"] = "false",
            ["Engine:OperatorApiKey"] = OperatorKey,
            ["Engine:Shards"] = "2",
            ["Engine:Slippage"] = "0",
            ["Engine:CircuitBreaker:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        };
        foreach (var (key, value) in _settings) settings[key] = value;
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Clock);
        });
    }

    /// <summary>The engine recovers in the background while the server already answers; tests start once it is ready.</summary>
    protected override IHost CreateHost(IHostBuilder builder)
    {
        var host = base.CreateHost(builder);
        if (WaitUntilReady) host.Services.GetRequiredService<EngineHostedService>().Ready.WaitAsync(TimeSpan.FromSeconds(120)).GetAwaiter().GetResult();
        return host;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_client.IsValueCreated) _client.Value.Dispose();
        await base.DisposeAsync();
        await WaitForEngineReleaseAsync();
        if (!_ownsData || KeepData) return;
        try
        {
            if (Directory.Exists(DataDirectory)) Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }

    /// <summary>The engine holds the data folder's lock file until its last snapshot is written; wait for it (bounded).</summary>
    private async Task WaitForEngineReleaseAsync()
    {
        var lockFile = Path.Combine(DataDirectory, ".lock");
        for (var i = 0; i < 200 && File.Exists(lockFile); i++)
        {
            try
            {
                await using var probe = new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                return;
            }
            catch (IOException)
            {
                await Task.Delay(25);
            }
        }
    }

    // ---- set-up helpers ----

    /// <summary>Creates an account with the operator key; returns its id and its own API key.</summary>
    public async Task<(string AccountId, string ApiKey)> CreateAccountAsync(string name = "trader")
    {
        var (status, body) = await PostAsync("/v1/accounts", new { name }, OperatorKey);
        Ensure(status, HttpStatusCode.Created, body);
        return (body.GetProperty("accountId").GetString()!, body.GetProperty("apiKey").GetString()!);
    }

    /// <summary>Credits the wallet (operator key); returns the account.</summary>
    public async Task<JsonElement> DepositAsync(string accountId, string amount)
    {
        var (status, body) = await PostAsync($"/v1/accounts/{accountId}/deposits", new { amount }, OperatorKey);
        Ensure(status, HttpStatusCode.OK, body);
        return body;
    }

    /// <summary>Moves wallet funds into a bucket (the manual one when none is given); returns the bucket.</summary>
    public async Task<JsonElement> TransferInAsync(string accountId, string apiKey, string amount, string? bucketId = null)
    {
        bucketId ??= await ManualBucketAsync(accountId, apiKey);
        var (status, body) = await PostAsync($"/v1/accounts/{accountId}/buckets/{bucketId}/transfers", new { direction = "in", amount }, apiKey);
        Ensure(status, HttpStatusCode.OK, body);
        return body;
    }

    /// <summary>Posts one tick from the single source "test": with one source, last, index and mark are that price.</summary>
    public async Task SetPriceAsync(string symbol, string price)
    {
        var (status, body) = await PostAsync("/v1/prices", new { ticks = new[] { new { source = "test", symbol, price } } }, OperatorKey);
        Ensure(status, HttpStatusCode.OK, body);
    }

    public async Task<string> ManualBucketAsync(string accountId, string apiKey)
    {
        var (status, account) = await GetAsync($"/v1/accounts/{accountId}", apiKey);
        Ensure(status, HttpStatusCode.OK, account);
        return account.GetProperty("buckets").EnumerateArray().First(b => b.GetProperty("kind").GetString() == "manual").GetProperty("bucketId").GetString()!;
    }

    /// <summary>A new account with <paramref name="wallet"/> deposited and <paramref name="bucket"/> of it in the manual bucket.</summary>
    public async Task<Trader> CreateTraderAsync(string name = "trader", string wallet = "10000", string bucket = "5000")
    {
        var (accountId, apiKey) = await CreateAccountAsync(name);
        await DepositAsync(accountId, wallet);
        var bucketId = await ManualBucketAsync(accountId, apiKey);
        if (bucket != "0") await TransferInAsync(accountId, apiKey, bucket, bucketId);
        return new Trader(accountId, apiKey, bucketId);
    }

    // ---- HTTP helpers: (status, parsed JSON body; Undefined when the body is empty) ----

    public Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string path, string? apiKey, IDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Get, path, null, apiKey, headers);

    public Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, object? body, string? apiKey, IDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Post, path, body, apiKey, headers);

    public Task<(HttpStatusCode Status, JsonElement Body)> PutAsync(string path, object? body, string? apiKey, IDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Put, path, body, apiKey, headers);

    public Task<(HttpStatusCode Status, JsonElement Body)> PatchAsync(string path, object? body, string? apiKey, IDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Patch, path, body, apiKey, headers);

    public Task<(HttpStatusCode Status, JsonElement Body)> DeleteAsync(string path, string? apiKey, IDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Delete, path, null, apiKey, headers);

    /// <summary>
    /// Sends a request. A string body is sent as is (for malformed JSON); any other object is
    /// serialized camelCase (give decimals as strings, as the API does).
    /// </summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, object? body, string? apiKey,
        IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (apiKey is not null) request.Headers.Add("X-Api-Key", apiKey);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>()) request.Headers.TryAddWithoutValidation(name, value);
        if (body is not null)
        {
            var json = body as string ?? JsonSerializer.Serialize(body, JsonOptions);
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var parsed = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, parsed);
    }

    /// <summary>
    /// Everything a caller can read of an account except its event log: account, buckets, positions,
    /// every order (open and finished) and fills. Two equal snapshots mean nothing changed.
    /// </summary>
    public async Task<string> SnapshotAsync(string accountId, string apiKey)
    {
        var parts = new List<string>();
        foreach (var path in new[] { "", "/orders?status=all", "/positions", "/fills", "/buckets" })
        {
            var (status, body) = await GetAsync($"/v1/accounts/{accountId}{path}", apiKey);
            Ensure(status, HttpStatusCode.OK, body);
            parts.Add(body.GetRawText());
        }

        return string.Join("\n", parts);
    }

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web);

    private static void Ensure(HttpStatusCode actual, HttpStatusCode expected, JsonElement body)
    {
        if (actual != expected)
            throw new InvalidOperationException($"expected {(int)expected}, got {(int)actual}: {(body.ValueKind == JsonValueKind.Undefined ? "" : body.GetRawText())}");
    }
}

/// <summary>A funded test account: its id, its key and its manual bucket.</summary>
public sealed record Trader(string AccountId, string ApiKey, string BucketId)
{
    public string Path => $"/v1/accounts/{AccountId}";
}
