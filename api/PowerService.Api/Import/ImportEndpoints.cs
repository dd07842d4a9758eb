using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using PowerService.Api.Live;
using PowerService.Api.Security;
using PowerService.Grains;
using PowerService.Grains.Topology.Import;
using PowerService.Runtime;

namespace PowerService.Api.Import;

public static class ImportEndpoints
{
    /// <summary>A million customers is about 120 MB of CSV; larger files are split by the sender.</summary>
    public const long MaxCsvBytes = 1L << 30;

    /// <summary><c>POST /api/import/{kind}</c> with a CSV body (columns: docs/topology-import.md). All or nothing:
    /// a file with any bad row imports nothing and the 400 lists each problem with its line and column. Progress goes
    /// to dispatchers on <c>/hubs/dispatch</c> as <c>importProgress</c> while the file streams in.</summary>
    public static IEndpointRouteBuilder MapImportEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/import/{kind}", async (string kind, HttpContext http, ClaimsPrincipal user, Silo silo, IHubContext<DispatchHub> dispatch) =>
            {
                if (!ImportKinds.TryParse(kind, out var importKind))
                {
                    throw new EntityNotFoundException("Import kind", kind);
                }
                var caller = Caller.From(user);
                // Sent in the importer's own order (Progress<T> would post each report to the thread pool, where a
                // "completed" could overtake the last count).
                var progress = new InOrder<ImportProgress>(p =>
                    _ = dispatch.Clients.Group(LiveGroups.Dispatchers).SendAsync("importProgress", new { kind, rows = p.RowsRead, completed = p.Completed, by = caller.Name }));
                // The upload is spooled to disk first: the import holds a store transaction (on SQLite, the only writer),
                // which must not wait on a slow client.
                await using var spool = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
                await http.Request.Body.CopyToAsync(spool, http.RequestAborted);
                spool.Position = 0;
                var result = await new TopologyImport(silo).ImportAsync(importKind, spool, caller.Actor, progress, http.RequestAborted);
                if (result.Succeeded)
                {
                    return Results.Ok(result);
                }
                var problem = new ProblemDetails
                {
                    Status = StatusCodes.Status400BadRequest,
                    Title = "The file was not imported",
                    Detail = $"{result.ErrorCount} problem(s); nothing from this file was imported.",
                };
                problem.Extensions["errorCount"] = result.ErrorCount;
                problem.Extensions["errors"] = result.Errors;
                return Results.Problem(problem);
            })
            .RequireAuthorization(Roles.Dispatcher)
            .Accepts<string>("text/csv")
            .WithMetadata(new RequestSizeLimitAttribute(MaxCsvBytes))
            .WithName("ImportTopology").Produces<ImportResult>();
        return routes;
    }
}

/// <summary>Reports on the reporting thread, one after another: what is reported first is sent first.</summary>
internal sealed class InOrder<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
