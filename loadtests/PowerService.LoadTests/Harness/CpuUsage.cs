using System.Diagnostics;
using System.Globalization;

namespace PowerService.LoadTests.Harness;

/// <summary>CPU spent over a window, in cores: by the whole machine (from /proc/stat, so a database server on this
/// machine shows up) and by this process. Tells whether a window was bound by CPU and whose.</summary>
internal sealed class CpuUsage
{
    private readonly long _machineBusy;
    private readonly long _machineTotal;
    private readonly TimeSpan _process;
    private readonly long _started;

    private CpuUsage()
    {
        (_machineBusy, _machineTotal) = ReadMachine();
        _process = Process.GetCurrentProcess().TotalProcessorTime;
        _started = Stopwatch.GetTimestamp();
    }

    public static CpuUsage Start() => new();

    /// <summary>Cores busy on average since <see cref="Start"/>: the machine's and this process's.</summary>
    private (double Machine, double Process) Cores()
    {
        var (busy, total) = ReadMachine();
        var wall = Stopwatch.GetElapsedTime(_started);
        var machine = total > _machineTotal ? (busy - _machineBusy) / (double)(total - _machineTotal) * Environment.ProcessorCount : double.NaN;
        var process = (Process.GetCurrentProcess().TotalProcessorTime - _process) / wall;
        return (machine, process);
    }

    public string Describe()
    {
        var (machine, process) = Cores();
        return string.Create(CultureInfo.InvariantCulture, $"CPU {machine:0.00} of {Environment.ProcessorCount} cores busy, {process:0.00} in this process");
    }

    private static (long Busy, long Total) ReadMachine()
    {
        if (!File.Exists("/proc/stat"))
        {
            return (0, 0);
        }
        // "cpu  user nice system idle iowait irq softirq steal ...": idle and iowait are the not-busy columns.
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var total = fields.Sum();
        return (total - fields[3] - fields[4], total);
    }
}
