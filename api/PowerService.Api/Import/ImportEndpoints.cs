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
    /// to dispatchers on <c>/hubs/dispatch</c> as <c>importProgress</c>: the bytes received while the file is uploaded
    /// (<c>stage</c> "uploading", every half second), then the rows read (<c>stage</c> "importing").</summary>
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
                    _ = dispatch.Clients.Group(LiveGroups.Dispatchers).SendAsync("importProgress", new { kind, stage = "importing", rows = p.RowsRead, completed = p.Completed, by = caller.Name }));
                // The upload is spooled to disk first: the import holds a store transaction (on SQLite, the only writer),
                // which must not wait on a slow client. The other dispatchers hear of the upload meanwhile (a 7 MB file at
                // 700 KB/s said nothing to them for 11 s, then every count at once).
                await using var spool = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
                await SpoolAsync(http.Request.Body, spool, bytes =>
                    _ = dispatch.Clients.Group(LiveGroups.Dispatchers).SendAsync("importProgress", new { kind, stage = "uploading", bytes, rows = 0, completed = false, by = caller.Name }),
                    http.RequestAborted);
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

    private static readonly TimeSpan UploadProgressEvery = TimeSpan.FromMilliseconds(500);

    /// <summary>Copies the upload to <paramref name="spool"/>, telling <paramref name="received"/> the bytes so far at the
    /// start and at most every <see cref="UploadProgressEvery"/>.</summary>
    private static async Task SpoolAsync(Stream body, Stream spool, Action<long> received, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            long bytes = 0;
            received(0);
            var told = System.Diagnostics.Stopwatch.GetTimestamp();
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await spool.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                bytes += read;
                if (System.Diagnostics.Stopwatch.GetElapsedTime(told) >= UploadProgressEvery)
                {
                    received(bytes);
                    told = System.Diagnostics.Stopwatch.GetTimestamp();
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>Reports on the reporting thread, one after another: what is reported first is sent first.</summary>
internal sealed class InOrder<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
