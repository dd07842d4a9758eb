using PowerService.Grains.Topology.Import;
using PowerService.Runtime;

namespace PowerService.LoadTests.Harness;

/// <summary>A generated topology sample (<c>TopologySample.WriteToFolder</c>) imported file by file, parents first, as
/// an operator would.</summary>
internal static class SampleImport
{
    public static async Task ImportAsync(Silo silo, string folder)
    {
        var import = new TopologyImport(silo);
        foreach (var kind in new[] { ImportKind.Feeders, ImportKind.Grids, ImportKind.TransformerAreas, ImportKind.Meters, ImportKind.Customers })
        {
            await using var file = File.OpenRead(Path.Combine(folder, kind.Name() + ".csv"));
            var result = await import.ImportAsync(kind, file, "loadtest");
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"{kind.Name()} failed: {string.Join("; ", result.Errors.Take(5))}");
            }
        }
    }
}
