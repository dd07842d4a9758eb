using System.Diagnostics;
using PowerService.LoadTests.Harness;
using PowerService.TestSupport.Topology;

namespace PowerService.LoadTests.Benchmarks;

/// <summary><c>generate-topology --customers N --out DIR</c>: writes the six import files of a generated topology
/// (docs/topology-import.md) for trying the import by hand or loading a demo.</summary>
internal static class GenerateTopology
{
    public static Task RunAsync(CommandLine args)
    {
        var size = new TopologySampleSize(args.Int("customers", 2_500));
        var folder = Path.GetFullPath(args.Text("out") ?? "topology-sample");
        var started = Stopwatch.StartNew();
        TopologySample.WriteToFolder(size, folder);
        Console.WriteLine($"{size.Feeders:N0} feeders, {size.Grids:N0} grids, {size.TransformerAreas:N0} transformer areas, {size.Meters:N0} customer meters and {size.SupplyMeters:N0} supply meters, " +
            $"{size.Customers:N0} customers, {size.Crews:N0} crews written to {folder} in {started.Elapsed.TotalSeconds:0.0} s; import in this order: " +
            string.Join(", ", TopologySample.Files));
        return Task.CompletedTask;
    }
}
