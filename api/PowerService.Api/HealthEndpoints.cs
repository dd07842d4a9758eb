using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PowerService.Runtime;

namespace PowerService.Api;

public static class HealthEndpoints
{
    /// <summary>Liveness (the process answers) and readiness (the silo has started, takes calls and its store answers),
    /// for load balancers and orchestrators. Neither needs a token: they reveal nothing but up or down.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
        routes.MapGet("/health/ready", async (Silo silo, StoreProbe store) =>
        {
            if (!silo.IsRunning)
            {
                return Results.Problem(title: "Silo not running", detail: "The silo is starting or shutting down.", statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            if (!await store.AnswersAsync())
            {
                return Results.Problem(title: "Store unavailable", detail: "The silo runs but its store does not answer: every change is refused until it does.", statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            // A store that answers reads may refuse writes (a full disk, a read-only file): every change fails meanwhile.
            // Why is an operator's to read (GET /api/runtime/stats): this endpoint is public, and the error names files.
            return silo.StateWrites.Failing is { } failing
                ? Results.Problem(
                    title: "Store refuses writes",
                    detail: $"The store has refused writes since {failing.Since:O}; an operator reads why in GET /api/runtime/stats.",
                    statusCode: StatusCodes.Status503ServiceUnavailable)
                : Results.Ok(new { status = "ready", store = silo.Storage.Name });
        });
        return routes;
    }
}

/// <summary>Whether the store answers a read, asked at most once per <see cref="Fresh"/> however often readiness is
/// asked (the endpoint is public) and given <see cref="Patience"/> to answer.</summary>
internal sealed class StoreProbe(Silo silo)
{
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private Task<bool>? _probe;
    private long _probedAt;

    public Task<bool> AnswersAsync()
    {
        lock (_lock)
        {
            if (_probe is null || (_probe.IsCompleted && Stopwatch.GetElapsedTime(_probedAt) > Fresh))
            {
                _probedAt = Stopwatch.GetTimestamp();
                _probe = ProbeAsync();
            }
            return _probe;
        }
    }

    private async Task<bool> ProbeAsync()
    {
        try
        {
            using var patience = new CancellationTokenSource(Patience);
            await silo.Storage.LastEventSequenceAsync(patience.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception)
        {
            return false; // down, or too slow to count on
        }
    }
}
