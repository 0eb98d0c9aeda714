using Engine.Silo.Runtime;

namespace Engine.Api.Http;

/// <summary>Every failure leaves as problem details with a stable code; nothing leaks as a bare 500.</summary>
public sealed class ErrorMiddleware(RequestDelegate next, ILogger<ErrorMiddleware> log)
{
    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            await next(http);
        }
        catch (ProblemException ex) when (!http.Response.HasStarted)
        {
            await Problems.Of(ex.Status, ex.Code, ex.Message).ExecuteAsync(http);
        }
        catch (EngineStartingException ex) when (!http.Response.HasStarted)
        {
            http.Response.Headers.RetryAfter = "1";
            await Problems.Of(503, "engine_starting", ex.Message).ExecuteAsync(http);
        }
        catch (StoreUnavailableException ex) when (!http.Response.HasStarted)
        {
            log.LogWarning("{Message}", ex.Message);
            await Problems.Of(503, "store_unavailable", ex.Message).ExecuteAsync(http);
        }
        catch (BadHttpRequestException ex) when (!http.Response.HasStarted)
        {
            await Problems.Of(ex.StatusCode == 413 ? 413 : 400, "invalid_request", ex.Message).ExecuteAsync(http);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
        catch (Exception ex) when (!http.Response.HasStarted)
        {
            log.LogError(ex, "unhandled error on {Path}", http.Request.Path);
            await Problems.Of(500, "internal_error", "an internal error occurred").ExecuteAsync(http);
        }
    }
}
