using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PowerService.Api.Security;
using PowerService.Runtime;

namespace PowerService.Api;

public static class RuntimeEndpoints
{
    /// <summary><c>GET /api/runtime/stats</c>: activations by grain type, queue depth, reminders held in memory and
    /// the store, whether the store refuses writes, and the API's answers by kind since the start (a script's check learnt
    /// nothing of errors before), for operators (and dispatchers, who watch the same wall).</summary>
    public static IEndpointRouteBuilder MapRuntimeEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/runtime/stats", (Silo silo, Live.HttpOutcomes http) =>
            {
                var runtime = silo.GetStatistics();
                var failing = silo.StateWrites.Failing;
                return Results.Ok(new RuntimeStatsView(
                    runtime.Activations, runtime.ActivationsByType, runtime.QueueDepth, runtime.RemindersInMemory, runtime.Store,
                    failing?.Since, failing?.Error, http.Read()));
            })
            .RequireAuthorization(Roles.Operator)
            .WithName("GetRuntimeStatistics").Produces<RuntimeStatsView>();
        return routes;
    }
}

/// <summary>The runtime's figures (<see cref="RuntimeStatistics"/>), when the store began refusing writes and why (null
/// while it takes them), and the API's answers since the silo started.</summary>
public sealed record RuntimeStatsView(
    int Activations,
    IReadOnlyDictionary<string, int> ActivationsByType,
    int QueueDepth,
    int RemindersInMemory,
    string Store,
    DateTimeOffset? StoreWritesFailingSince,
    string? StoreWriteError,
    Live.HttpCounts Http);
