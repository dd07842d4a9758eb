using System.Text;
using PowerService.Grains.Topology.Import;
using PowerService.Runtime;

namespace PowerService.LoadTests.Harness;

/// <summary>An order without a customer is refused in a region nobody serves (no crew, no feeder of the topology): a
/// benchmark placing orders in a region of its own without crews gives the region a feeder first, as an import would.</summary>
internal static class ServedRegions
{
    public static async Task AddAsync(Silo silo, IEnumerable<string> regions)
    {
        var feeders = new StringBuilder("feeder_id,name,substation_id,substation_name,region\n");
        foreach (var region in regions)
        {
            feeders.Append($"FD-{region},{region} feeder,SS-{region},{region} substation,{region}\n");
        }
        var result = await new TopologyImport(silo).ImportAsync(ImportKind.Feeders, new MemoryStream(Encoding.UTF8.GetBytes(feeders.ToString())), "loadtest");
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"feeders of the benchmark's regions: {string.Join("; ", result.Errors.Take(5))}");
        }
    }
}
