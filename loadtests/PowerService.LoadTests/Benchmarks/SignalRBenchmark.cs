using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using PowerService.Api.Security;
using PowerService.LoadTests.Harness;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>Live-feed delivery to many SignalR connections over real WebSockets: N dispatch-console connections
/// (<c>/hubs/dispatch</c>, each watching one region) while a dispatcher creates orders in that region over HTTP at a
/// steady rate; every connection must receive every order. Delivery latency is measured per (connection, order) from
/// just before the HTTP call that creates the order to the moment that connection has read the message naming it:
/// HTTP create + journal write + the feed's poll (up to 50 ms when idle) + fan-out + the client's read. Baseline in the
/// same run: the same orders delivered to one connection. With <c>--regions N</c> the connections and the orders are
/// spread over N regions (connection c watches region c mod N, order i is created in region i mod N), as consoles of
/// a utility's districts are: each connection must receive its region's orders.</summary>
internal static class SignalRBenchmark
{
    public const double TargetP99Ms = 250;
    private const int Dispatchers = 10;
    private static readonly byte[] IdProperty = "\"id\":\""u8.ToArray();

    public static async Task RunAsync(CommandLine args)
    {
        var connections = args.Int("count", 5_000);
        var orders = args.Int("orders", 100);
        var rate = args.Int("rate", 10);
        var regions = args.Int("regions", 1);
        Report.Title("signalr", regions == 1
            ? $"{connections:N0} dispatch-hub connections over WebSockets watching one region, {orders} orders created over HTTP at {rate}/s, every connection must receive every order"
            : $"{connections:N0} dispatch-hub connections over WebSockets spread over {regions} regions, {orders} orders created over HTTP at {rate}/s round the regions, every connection must receive its region's orders");
        Report.Line(FileLimits());

        var accounts = Enumerable.Range(0, Dispatchers).Select(i => new BenchmarkUser($"console-{i}", Roles.Dispatcher)).ToList();
        await using var host = await ApiHost.StartAsync(accounts);
        var tokens = await Task.WhenAll(accounts.Select(a => host.TokenAsync(a.Name)));
        var hub = new Uri(host.Address, "/hubs/dispatch");
        await ServedRegions.AddAsync(host.Silo, Enumerable.Range(0, regions).Select(r => RegionOf(r, regions)).Append(RegionOf(0, 1)).Distinct());

        // Warm the paths (HTTP create, journal feed, hub send) before anything is timed.
        await MeasureAsync(host, hub, tokens, 1, orders: 10, rate, regions: 1, prefix: "SIGW");
        var single = await MeasureAsync(host, hub, tokens, 1, orders, rate, regions: 1, prefix: "SIGB");
        // --clients process: the connections live in a child process, so this process's CPU is the server's alone.
        var separate = args.Text("clients") == "process";
        var many = separate
            ? await MeasureInChildAsync(host, hub, tokens, connections, orders, rate, regions, prefix: "SIGP")
            : await MeasureAsync(host, hub, tokens, connections, orders, rate, regions, prefix: "SIGM");

        var table = new ResultTable("delivery latency", "1 connection (baseline)", $"{connections:N0} connections", "ratio");
        foreach (var (name, p) in new[] { ("p50", 0.5), ("p99", 0.99), ("max", 1.0) })
        {
            var b = Statistics.Percentile(single.Latencies, p);
            var m = Statistics.Percentile(many.Latencies, p);
            table.Add(name, Report.Ms(b), Report.Ms(m), Report.Ratio(m / b));
        }
        table.Add("deliveries", Report.Number(single.Latencies.Length), Report.Number(many.Latencies.Length), "");
        table.Add("missing", Report.Number(single.Missing), Report.Number(many.Missing), "");
        table.Add("deliveries/s (while sending)", Report.Rate(single.DeliveryRate), Report.Rate(many.DeliveryRate), "");
        table.Add("messages per connection", Report.Number((long)Math.Round(single.MessagesPerConnection)), Report.Number((long)Math.Round(many.MessagesPerConnection)), "");
        table.Print();
        Report.Line($"{connections:N0} connections {(separate ? "in a child process " : "")}opened and watching in {many.ConnectTime.TotalSeconds:0.0} s; {many.Cpu} while delivering");
        var p99 = Statistics.Percentile(many.Latencies, 0.99);
        Report.Target($"delivery p99 ≤ {TargetP99Ms} ms to {connections:N0} connections, none missing", p99 <= TargetP99Ms && many.Missing == 0);
    }

    private static async Task<Run> MeasureAsync(ApiHost host, Uri hub, string[] tokens, int count, int orders, int rate, int regions, string prefix)
    {
        var sent = new long[orders];
        var received = new bool[count, orders];
        var latencies = new List<double>[count];
        var messages = 0L;
        var connectStarted = Stopwatch.GetTimestamp();
        var clients = new HubClient[count];
        await BoundedLoad.RunAsync(count, 64, async c =>
        {
            latencies[c] = new List<double>(orders);
            clients[c] = await HubClient.ConnectAsync(hub, tokens[c % tokens.Length], message =>
            {
                Interlocked.Increment(ref messages);
                OnMessage(message, prefix, sent, c, received, latencies[c]);
            });
            await clients[c].InvokeAsync("Watch", RegionOf(c, regions));
        }, TimeSpan.FromMinutes(5));
        var connectTime = Stopwatch.GetElapsedTime(connectStarted);
        if (clients.Any(c => c is null))
        {
            throw new InvalidOperationException("Not every connection opened within 5 minutes.");
        }
        if (count > 1)
        {
            Report.Line($"{count:N0} connections open and watching in {connectTime.TotalSeconds:0.0} s; sending {orders} orders");
        }
        using var stopPings = new CancellationTokenSource();
        var pings = KeepAliveAsync(clients, stopPings.Token);
        try
        {
            GC.Collect();
            var messagesBefore = Interlocked.Read(ref messages);
            var cpu = CpuUsage.Start();
            var started = Stopwatch.GetTimestamp();
            await SendOrdersAsync(host, tokens[0], orders, rate, regions, prefix, (i, at) => Volatile.Write(ref sent[i], at));
            var cpuText = cpu.Describe();
            var expected = Expected(count, orders, regions);
            var deadline = Stopwatch.GetTimestamp() + 30 * Stopwatch.Frequency;
            while (Delivered(latencies) < expected && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(50);
            }
            var elapsed = Stopwatch.GetElapsedTime(started);
            var all = latencies.SelectMany(l => { lock (l) { return l.ToArray(); } }).ToArray();
            Array.Sort(all);
            var perConnection = (Interlocked.Read(ref messages) - messagesBefore) / (double)count;
            return new Run(all, expected - all.Length, all.Length / elapsed.TotalSeconds, connectTime, cpuText, perConnection);
        }
        finally
        {
            await stopPings.CancelAsync();
            await pings;
            await BoundedLoad.RunAsync(count, 64, async c => await clients[c].DisposeAsync(), TimeSpan.FromMinutes(2));
        }
    }

    /// <summary>Creates the orders over HTTP, open loop: order i is due at i / rate seconds whatever the previous calls
    /// took; <paramref name="onSent"/> gets each order's index and the timestamp just before its request.</summary>
    private static async Task SendOrdersAsync(ApiHost host, string token, int orders, int rate, int regions, string prefix, Action<int, long> onSent)
    {
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < orders; i++)
        {
            var due = started + (long)(i * Stopwatch.Frequency / (double)rate);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
            onSent(i, Stopwatch.GetTimestamp());
            var status = await host.SendAsync(HttpMethod.Post, "/api/work-orders", token, new
            {
                id = $"{prefix}-{i:000000}",
                kind = "FaultRepair",
                description = "No power at the meter box",
                region = RegionOf(i, regions),
                location = new { latitude = 20.0, longitude = 110.3 },
            });
            if (status != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"create order: {(int)status} {status}");
            }
        }
    }

    /// <summary>The same measurement with the connections in a child process (<c>signalr-clients</c>): it connects
    /// them, says "ready", hears "i timestamp" for each order sent (Stopwatch timestamps are the machine's monotonic
    /// clock, the same in both processes), and when told "done" writes the latencies to a file and its CPU to stdout.</summary>
    private static async Task<Run> MeasureInChildAsync(ApiHost host, Uri hub, string[] tokens, int count, int orders, int rate, int regions, string prefix)
    {
        var results = Path.GetTempFileName();
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // Run through the `dotnet` host (`dotnet PowerService.LoadTests.dll`), the child needs the program's path
        // first; run through the apphost (`dotnet run`), it must not get it, or it reads the path as its command.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        }
        foreach (var argument in new[] { "signalr-clients", "--hub", hub.ToString(), "--count", count.ToString(CultureInfo.InvariantCulture),
            "--orders", orders.ToString(CultureInfo.InvariantCulture), "--regions", regions.ToString(CultureInfo.InvariantCulture),
            "--prefix", prefix, "--results", results })
        {
            start.ArgumentList.Add(argument);
        }
        using var child = Process.Start(start)!;
        try
        {
            await child.StandardInput.WriteLineAsync(JsonSerializer.Serialize(tokens));
            await child.StandardInput.FlushAsync();
            var connectStarted = Stopwatch.GetTimestamp();
            if (await child.StandardOutput.ReadLineAsync() != "ready")
            {
                throw new InvalidOperationException("The client process did not open its connections.");
            }
            var connectTime = Stopwatch.GetElapsedTime(connectStarted);
            Report.Line($"{count:N0} connections open in a child process in {connectTime.TotalSeconds:0.0} s; sending {orders} orders");
            GC.Collect();
            var cpu = CpuUsage.Start();
            var started = Stopwatch.GetTimestamp();
            var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
            await SendOrdersAsync(host, tokens[0], orders, rate, regions, prefix, (i, at) => lines.Enqueue(string.Create(CultureInfo.InvariantCulture, $"{i} {at}")));
            foreach (var line in lines)
            {
                await child.StandardInput.WriteLineAsync(line);
            }
            await child.StandardInput.WriteLineAsync("done");
            await child.StandardInput.FlushAsync();
            var answer = (await child.StandardOutput.ReadLineAsync())?.Split(' ') ?? throw new InvalidOperationException("The client process ended without results.");
            var cpuText = cpu.Describe();
            var elapsed = Stopwatch.GetElapsedTime(started);
            var all = (await File.ReadAllLinesAsync(results)).Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray();
            Array.Sort(all);
            var clientCpu = double.Parse(answer[2], CultureInfo.InvariantCulture);
            return new Run(all, Expected(count, orders, regions) - all.Length, all.Length / elapsed.TotalSeconds, connectTime,
                string.Create(CultureInfo.InvariantCulture, $"{cpuText} (the server); the client process {clientCpu / elapsed.TotalSeconds:0.00} cores"),
                double.Parse(answer[1], CultureInfo.InvariantCulture));
        }
        finally
        {
            await child.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
            File.Delete(results);
        }
    }

    /// <summary>The child of <see cref="MeasureInChildAsync"/>: connections only, no server.</summary>
    public static async Task RunClientsAsync(CommandLine args)
    {
        var hub = new Uri(args.Text("hub") ?? throw new ArgumentException("--hub is required"));
        var count = args.Int("count", 5_000);
        var orders = args.Int("orders", 100);
        var regions = args.Int("regions", 1);
        var prefix = args.Text("prefix") ?? throw new ArgumentException("--prefix is required");
        var tokens = JsonSerializer.Deserialize<string[]>(await Console.In.ReadLineAsync() ?? "[]")!;
        var receivedAt = new long[count, orders];
        var messages = 0L;
        var clients = new HubClient[count];
        await BoundedLoad.RunAsync(count, 64, async c =>
        {
            clients[c] = await HubClient.ConnectAsync(hub, tokens[c % tokens.Length], message =>
            {
                Interlocked.Increment(ref messages);
                var now = Stopwatch.GetTimestamp();
                FindOrders(message.Span, prefix, orders, index =>
                {
                    if (receivedAt[c, index] == 0)
                    {
                        receivedAt[c, index] = now;
                    }
                });
            });
            await clients[c].InvokeAsync("Watch", RegionOf(c, regions));
        }, TimeSpan.FromMinutes(5));
        Console.WriteLine("ready");
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var messagesBefore = Interlocked.Read(ref messages);
        var sent = new long[orders];
        string? line;
        while ((line = await Console.In.ReadLineAsync()) is not null && line != "done")
        {
            var parts = line.Split(' ');
            sent[int.Parse(parts[0], CultureInfo.InvariantCulture)] = long.Parse(parts[1], CultureInfo.InvariantCulture);
        }
        var deadline = Stopwatch.GetTimestamp() + 30 * Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < deadline
            && Enumerable.Range(0, count).Any(c => Enumerable.Range(0, orders).Any(o => o % regions == c % regions && Volatile.Read(ref receivedAt[c, o]) == 0)))
        {
            await Task.Delay(100);
        }
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var perConnection = (Interlocked.Read(ref messages) - messagesBefore) / (double)count;
        var latencies = new List<string>(count * orders);
        for (var c = 0; c < count; c++)
        {
            for (var o = 0; o < orders; o++)
            {
                if (receivedAt[c, o] != 0)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(sent[o], receivedAt[c, o]).TotalMilliseconds.ToString("R", CultureInfo.InvariantCulture));
                }
            }
        }
        await File.WriteAllLinesAsync(args.Text("results")!, latencies);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result {perConnection} {cpu.TotalSeconds}"));
        await BoundedLoad.RunAsync(count, 64, async c => await clients[c].DisposeAsync(), TimeSpan.FromMinutes(2));
    }

    /// <summary>The region connection or order <paramref name="index"/> belongs to.</summary>
    private static string RegionOf(int index, int regions) =>
        regions == 1 ? "SIG" : string.Create(CultureInfo.InvariantCulture, $"SIG{index % regions:00}");

    /// <summary>How many (connection, order) deliveries a run must make: each connection gets its region's orders.</summary>
    private static int Expected(int count, int orders, int regions) =>
        Enumerable.Range(0, count).Sum(c => Enumerable.Range(0, orders).Count(o => o % regions == c % regions));

    private static int Delivered(List<double>[] latencies) => latencies.Sum(l => { lock (l) { return l.Count; } });

    private static async Task KeepAliveAsync(HubClient[] clients, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(10), stop);
                foreach (var client in clients)
                {
                    await client.PingAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Measured; the connections close next.
        }
    }

    /// <summary>Records the first receipt of each order a message names.</summary>
    private static void OnMessage(ReadOnlyMemory<byte> message, string prefix, long[] sent, int connection, bool[,] received, List<double> latencies)
    {
        var now = Stopwatch.GetTimestamp();
        FindOrders(message.Span, prefix, sent.Length, index =>
        {
            if (!received[connection, index])
            {
                received[connection, index] = true;
                lock (latencies)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(Volatile.Read(ref sent[index]), now).TotalMilliseconds);
                }
            }
        });
    }

    /// <summary>Finds the order ids (<c>"id":"…"</c> values with the run's prefix) in a message. A byte search, not a
    /// JSON reader: the clients share the machine with the server, and tokenizing 5,000 copies of every message would
    /// be the clients' cost, not the feed's (the server writes compact JSON).</summary>
    private static void FindOrders(ReadOnlySpan<byte> message, string prefix, int orders, Action<int> found)
    {
        var rest = message;
        int at;
        while ((at = rest.IndexOf(IdProperty)) >= 0)
        {
            rest = rest[(at + IdProperty.Length)..];
            var end = rest.IndexOf((byte)'"');
            if (end < 0)
            {
                return;
            }
            var id = rest[..end];
            rest = rest[end..];
            if (id.Length > prefix.Length + 1 && id[prefix.Length] == '-' && Encoding.ASCII.GetString(id[..prefix.Length]) == prefix
                && int.TryParse(id[(prefix.Length + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                && index < orders)
            {
                found(index);
            }
        }
    }

    private static string FileLimits()
    {
        var limits = File.Exists("/proc/self/limits")
            ? File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal))
            : null;
        return limits is null
            ? "open-file limit: unknown"
            : "open-file limit (soft, hard): " + string.Join(", ", limits.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(3).Take(2)) +
              " — each connection holds two descriptors here (client and server side); raise with `ulimit -n` before the run if needed";
    }

    private sealed record Run(double[] Latencies, int Missing, double DeliveryRate, TimeSpan ConnectTime, string Cpu, double MessagesPerConnection);
}
