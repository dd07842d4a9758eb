using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PowerService.Runtime;

namespace PowerService.Api;

public static class HealthEndpoints
{
    /// <summary>Liveness (the process answers) and readiness (the silo has started and takes calls), for load balancers
    /// and orchestrators. Neither needs a token: they reveal nothing but up or down.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
        routes.MapGet("/health/ready", (Silo silo) => silo.IsRunning
            ? Results.Ok(new { status = "ready", store = silo.Storage.Name })
            : Results.Problem(title: "Silo not running", detail: "The silo is starting or shutting down.", statusCode: StatusCodes.Status503ServiceUnavailable));
        return routes;
    }
}
