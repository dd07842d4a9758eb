using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;

namespace PowerService.LoadTests.Harness;

/// <summary>Plain console output: a title with the machine it ran on, aligned tables and target verdicts.</summary>
internal static class Report
{
    public static string Machine { get; } = DescribeMachine();

    public static void Title(string name, string what)
    {
        Console.WriteLine();
        Console.WriteLine($"== {name}: {what}");
        Console.WriteLine($"   {Machine}");
        Console.WriteLine($"   {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
    }

    public static void Line(string text) => Console.WriteLine($"   {text}");

    public static void Target(string target, bool met) => Console.WriteLine($"   target {target}: {(met ? "MET" : "NOT MET")}");

    public static string Rate(double perSecond) => perSecond.ToString("N0", CultureInfo.InvariantCulture) + "/s";

    public static string Number(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Ratio(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    public static string Ms(double value) => value.ToString("N1", CultureInfo.InvariantCulture) + " ms";

    private static string DescribeMachine()
    {
        var cpu = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
        {
            cpu = File.ReadLines("/proc/cpuinfo")
                .Where(line => line.StartsWith("model name", StringComparison.Ordinal))
                .Select(line => line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim())
                .FirstOrDefault() ?? cpu;
        }
        var gc = GCSettings.IsServerGC ? "server GC" : "workstation GC";
        return $"machine: {Environment.ProcessorCount} logical CPUs ({cpu}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, {gc}";
    }
}

/// <summary>A table printed with its columns aligned: the first column left, the others right.</summary>
internal sealed class ResultTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    public void Print()
    {
        var all = _rows.Prepend(headers).ToList();
        var widths = Enumerable.Range(0, headers.Length).Select(c => all.Max(row => c < row.Length ? row[c].Length : 0)).ToArray();
        foreach (var row in all)
        {
            var cells = row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]));
            Console.WriteLine("   " + string.Join("  ", cells));
            if (ReferenceEquals(row, headers))
            {
                Console.WriteLine("   " + string.Join("  ", widths.Select(w => new string('-', w))));
            }
        }
    }
}
