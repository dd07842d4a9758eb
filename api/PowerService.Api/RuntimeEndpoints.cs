using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PowerService.Api.Security;
using PowerService.Runtime;

namespace PowerService.Api;

public static class RuntimeEndpoints
{
    /// <summary><c>GET /api/runtime/stats</c>: activations by grain type, queue depth, reminders held in memory and
    /// the store, for operators (and dispatchers, who watch the same wall).</summary>
    public static IEndpointRouteBuilder MapRuntimeEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/runtime/stats", (Silo silo) => Results.Ok(silo.GetStatistics()))
            .RequireAuthorization(Roles.Operator)
            .WithName("GetRuntimeStatistics");
        return routes;
    }
}
