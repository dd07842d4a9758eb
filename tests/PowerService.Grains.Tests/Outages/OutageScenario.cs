using System.Text;
using Microsoft.Extensions.DependencyInjection;
using PowerService.Grains.Ami;
using PowerService.Grains.Outages;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.Topology.Import;
using PowerService.TestSupport;
using PowerService.TestSupport.Topology;

namespace PowerService.Grains.Tests.Outages;

/// <summary>The 500-customer sample topology (10 transformer areas of 50 meters, TA-000001 and TA-000002 on feeder
/// FD-000001; meter MT-n and customer CU-n are on area TA-(n-1)/50+1) in a silo, and meter events sent through the
/// ingestion path the head-end uses.</summary>
internal static class OutageScenario
{
    private static readonly IReadOnlyDictionary<string, string> Sample = TopologySample.WriteToMemory(new TopologySampleSize(500));

    public static async Task ImportTopologyAsync(WorkflowSilo silo)
    {
        foreach (var kind in new[] { ImportKind.Feeders, ImportKind.Grids, ImportKind.TransformerAreas, ImportKind.Meters, ImportKind.Customers })
        {
            await ImportAsync(silo, kind, Sample[kind.Name() + ".csv"]);
        }
    }

    /// <summary>The sample's CSV file of <paramref name="kind"/>, for a test that imports a changed copy.</summary>
    public static string SampleFile(ImportKind kind) => Sample[kind.Name() + ".csv"];

    public static async Task<ImportResult> ImportAsync(WorkflowSilo silo, ImportKind kind, string csv)
    {
        var result = await new TopologyImport(silo.Silo).ImportAsync(kind, new MemoryStream(Encoding.UTF8.GetBytes(csv)), "dispatcher-7");
        Assert.True(result.Succeeded, string.Join("; ", result.Errors));
        return result;
    }

    public static MeterEventIngestion Ingestion(WorkflowSilo silo) => silo.Silo.Services.GetRequiredService<MeterEventIngestion>();

    /// <summary>Sends the events as the head-end does, then waits until every outage they made an area infer is open
    /// (an area hands its outage to the feeder one-way: it is on the board a moment after the events are applied).</summary>
    public static async Task<IngestionReceipt> SendAsync(WorkflowSilo silo, IEnumerable<MeterEvent> events)
    {
        var batch = events.ToList();
        var receipt = await Ingestion(silo).SubmitAsync(batch);
        foreach (var area in batch.Select(e => AreaOf(e.MeterId)).OfType<string>().Distinct())
        {
            await Eventually.True(async () => !(await silo.Grain<IAreaPowerGrain>(area).Get()).OutageOpening, $"the outage {area} inferred is open");
        }
        return receipt;
    }

    /// <summary>The sample area of meter MT-n, or null for a meter the sample does not have.</summary>
    private static string? AreaOf(string meterId) =>
        meterId.StartsWith("MT-", StringComparison.Ordinal) && int.TryParse(meterId.AsSpan(3), out var n) && n is >= 1 and <= 500 ? Area(((n - 1) / 50) + 1) : null;

    /// <summary>Meters <paramref name="first"/>..<paramref name="last"/> (numbers) send one event each, at the silo's now.</summary>
    public static IEnumerable<MeterEvent> Events(WorkflowSilo silo, int first, int last, MeterEventType type, string tag = "") =>
        Enumerable.Range(first, last - first + 1).Select(n => new MeterEvent(Meter(n), $"{type}-{tag}{n}-{silo.Clock.GetUtcNow():HHmmss}", type, silo.Clock.GetUtcNow()));

    public static string Meter(int n) => $"MT-{n:0000000}";

    public static string Customer(int n) => $"CU-{n:0000000}";

    public static string Area(int n) => $"TA-{n:000000}";
}
