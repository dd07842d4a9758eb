using System.Diagnostics;
using System.Globalization;
using System.Net;
using PowerService.Api.Security;
using PowerService.LoadTests.Harness;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>Mixed API load over real HTTP on loopback against the API hosted in-process: mostly reads (one order, one
/// crew, a region's order list, active outages), some writes (new orders, crew locations, suspend/resume transitions).
/// Closed loop: a fixed number of simulated users, each sending its next request when the last one answered, so the
/// load generator (sharing the cores with the server) can never queue more work than the server is given. Baseline in
/// the same run, in alternating rounds: the same users calling <c>/health/live</c> over the same HTTP stack, so the
/// cost of routing, auth, JSON and the grains shows as a ratio.</summary>
internal static class ApiLoadBenchmark
{
    public const double TargetRequestsPerSecond = 5_000;
    public const double TargetP99Ms = 50;

    private const int Regions = 4;
    private const int CrewsPerRegion = 16;

    private static readonly string[] LowVoltage = ["LowVoltageRepair"];

    // Kind, share of requests (per mille).
    private static readonly (string Kind, int PerMille)[] Mix =
    [
        ("GET order", 400),
        ("GET crew", 150),
        ("GET orders?region", 100),
        ("GET outages", 100),
        ("POST crew location", 120),
        ("POST transition", 100),
        ("POST order", 30),
    ];

    public static async Task RunAsync(CommandLine args)
    {
        var users = args.Int("concurrency", 32);
        var orderCount = args.Int("orders", 2_000);
        var warmup = args.Seconds("warmup", 3);
        var measure = args.Seconds("measure", 10);
        var rounds = args.Int("rounds", 3);
        Report.Title("api-load", $"mixed API load over HTTP/1.1 on loopback, {users} simulated users (closed loop), {orderCount:N0} orders, " +
            $"{Regions * CrewsPerRegion} crews, {warmup.TotalSeconds:0.#} s warm-up + {measure.TotalSeconds:0.#} s measured per round, {rounds} rounds each");
        Report.Line("mix: " + string.Join(", ", Mix.Select(m => $"{m.Kind} {m.PerMille / 10.0:0.#}%")));

        var crews = Enumerable.Range(0, Regions * CrewsPerRegion).Select(i => $"LC-{i:000}").ToArray();
        var accounts = new List<BenchmarkUser>();
        accounts.AddRange(Enumerable.Range(0, 8).Select(i => new BenchmarkUser($"dispatcher-{i}", Roles.Dispatcher)));
        accounts.AddRange(crews.Select(id => new BenchmarkUser($"crew-{id}", Roles.Crew, CrewId: id)));
        await using var host = await ApiHost.StartAsync(accounts);

        var started = Stopwatch.GetTimestamp();
        var dispatcherTokens = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => host.TokenAsync($"dispatcher-{i}")));
        var crewTokens = await Task.WhenAll(crews.Select(id => host.TokenAsync($"crew-{id}")));
        Report.Line($"tokens for {dispatcherTokens.Length + crewTokens.Length} users in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s (PBKDF2, once per user)");

        started = Stopwatch.GetTimestamp();
        var now = DateTimeOffset.UtcNow;
        await BoundedLoad.RunAsync(crews.Length, 8, async i => Expect(await host.SendAsync(HttpMethod.Post, "/api/crews", dispatcherTokens[0], new
        {
            id = crews[i],
            name = $"Crew {crews[i]}",
            region = Region(i / CrewsPerRegion),
            skills = LowVoltage,
            capacity = 20,
            home = Point(i),
            shifts = new[] { new { start = now.AddHours(-1), end = now.AddHours(12) } },
        }), HttpStatusCode.Created, "register crew"), TimeSpan.FromMinutes(2));
        var orders = Enumerable.Range(0, orderCount).Select(i => $"LO-{i:000000}").ToArray();
        await BoundedLoad.RunAsync(orderCount, 16, async i => Expect(
            await host.SendAsync(HttpMethod.Post, "/api/work-orders", dispatcherTokens[i % dispatcherTokens.Length], NewOrder(orders[i], i)),
            HttpStatusCode.Created, "create order"), TimeSpan.FromMinutes(5));
        Report.Line($"set-up: {crews.Length} crews and {orderCount:N0} orders created over HTTP in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s");

        var load = new MixedLoad(host, users, orders, crews, dispatcherTokens, crewTokens);
        var table = new ResultTable("round", "/health/live baseline", "mixed API", "p50", "p99", "API/baseline", "CPU µs/request: baseline / mixed", "errors", "CPU (mixed)");
        var baseline = new List<double>();
        var mixed = new List<double>();
        var p99s = new List<double>();
        var cpuBaseline = new List<double>();
        var cpuMixed = new List<double>();
        Window? last = null;
        for (var round = 1; round <= rounds; round++)
        {
            var b = await load.RunAsync(health: true, warmup, measure);
            var m = await load.RunAsync(health: false, warmup, measure);
            baseline.Add(b.Rate);
            mixed.Add(m.Rate);
            var all = m.AllLatencies();
            p99s.Add(Statistics.Percentile(all, 0.99));
            cpuBaseline.Add(b.CpuMicrosecondsPerRequest);
            cpuMixed.Add(m.CpuMicrosecondsPerRequest);
            table.Add(round.ToString(CultureInfo.InvariantCulture), Report.Rate(b.Rate), Report.Rate(m.Rate),
                Ms2(Statistics.Percentile(all, 0.5)), Ms2(p99s[^1]), Report.Ratio(m.Rate / b.Rate), CpuPair(cpuBaseline[^1], cpuMixed[^1]), Report.Number(m.Errors), m.Cpu);
            last = m;
        }
        var rate = Statistics.Median(mixed);
        var p99 = Statistics.Median(p99s);
        table.Add("median", Report.Rate(Statistics.Median(baseline)), Report.Rate(rate), "", Ms2(p99), Report.Ratio(rate / Statistics.Median(baseline)),
            CpuPair(Statistics.Median(cpuBaseline), Statistics.Median(cpuMixed)), "", "");
        table.Print();

        Report.Line("");
        Report.Line($"per request kind, last round ({last!.Requests:N0} requests):");
        var kinds = new ResultTable("kind", "requests/s", "p50", "p99", "max", "errors");
        foreach (var (kind, index) in Mix.Select((m, i) => (m.Kind, i)))
        {
            var latencies = last.Latencies(index);
            kinds.Add(kind, Report.Rate(latencies.Length / measure.TotalSeconds), Ms2(Statistics.Percentile(latencies, 0.5)),
                Ms2(Statistics.Percentile(latencies, 0.99)), Ms2(latencies.Length == 0 ? double.NaN : latencies[^1]), Report.Number(last.ErrorsOf(index)));
        }
        kinds.Print();
        if (last.FirstError is { } firstError)
        {
            Report.Line($"first error: {firstError}");
        }
        Report.Target($"≥ {TargetRequestsPerSecond:N0} requests/s (median of rounds)", rate >= TargetRequestsPerSecond);
        Report.Target($"p99 ≤ {TargetP99Ms} ms (median of rounds)", p99 <= TargetP99Ms);
    }

    private static object NewOrder(string id, int i) => new
    {
        id,
        kind = "FaultRepair",
        description = "No power at the meter box",
        region = Region(i % Regions),
        location = Point(i),
    };

    private static string Region(int i) => $"LR{i}";

    private static object Point(int i) => new { latitude = 20.0 + (i % 97) * 0.001, longitude = 110.3 + (i % 89) * 0.001 };

    private static void Expect(HttpStatusCode status, HttpStatusCode expected, string what)
    {
        if (status != expected)
        {
            throw new InvalidOperationException($"{what}: {(int)status} {status}, expected {(int)expected}.");
        }
    }

    private static string CpuPair(double baseline, double mixed) =>
        string.Create(CultureInfo.InvariantCulture, $"{baseline:0} / {mixed:0}");

    private static string Ms2(double value) => value.ToString("0.00", CultureInfo.InvariantCulture) + " ms";

    /// <summary>The simulated users. Each owns the orders whose index is its own modulo the user count for its
    /// transitions, so suspend and resume alternate per order without two users racing on one (no 409s by design).</summary>
    private sealed class MixedLoad(ApiHost host, int users, string[] orders, string[] crews, string[] dispatcherTokens, string[] crewTokens)
    {
        private readonly bool[] _suspended = new bool[orders.Length];
        private int _created;

        public async Task<Window> RunAsync(bool health, TimeSpan warmup, TimeSpan measure)
        {
            GC.Collect();
            var window = new Window(users, Mix.Length);
            using var stop = new CancellationTokenSource();
            var loops = Enumerable.Range(0, users).Select(u => Task.Run(() => UserLoop(u, health, window, stop.Token))).ToArray();
            await Task.Delay(warmup);
            window.Open();
            var cpu = CpuUsage.Start();
            await Task.Delay(measure);
            window.Close(cpu.Describe());
            await stop.CancelAsync();
            await Task.WhenAll(loops);
            return window;
        }

        private async Task UserLoop(int user, bool health, Window window, CancellationToken stop)
        {
            var dispatcher = dispatcherTokens[user % dispatcherTokens.Length];
            var transitionOrder = user;
            for (long n = 0; !stop.IsCancellationRequested; n++)
            {
                var kind = health ? 0 : KindOf(CallLoad.Pick(user, n, 1000));
                var crew = CallLoad.Pick(user, n + 7, crews.Length);
                var order = orders[CallLoad.Pick(user, n + 13, orders.Length)];
                var asked = Stopwatch.GetTimestamp();
                HttpStatusCode status;
                HttpStatusCode expected = HttpStatusCode.OK;
                try
                {
                    if (health)
                    {
                        status = await host.Client.GetAsync("/health/live", stop) is var response ? Dispose(response) : default;
                    }
                    else
                    {
                        switch (kind)
                        {
                            case 0:
                                status = await host.SendAsync(HttpMethod.Get, $"/api/work-orders/{order}", dispatcher);
                                break;
                            case 1:
                                status = await host.SendAsync(HttpMethod.Get, $"/api/crews/{crews[crew]}", crewTokens[crew]);
                                break;
                            case 2:
                                status = await host.SendAsync(HttpMethod.Get, $"/api/work-orders?region={Region((int)(n % Regions))}&limit=20", dispatcher);
                                break;
                            case 3:
                                status = await host.SendAsync(HttpMethod.Get, "/api/outages?active=true", dispatcher);
                                break;
                            case 4:
                                status = await host.SendAsync(HttpMethod.Post, $"/api/crews/{crews[crew]}/location", crewTokens[crew], Point((int)n));
                                break;
                            case 5:
                                var index = transitionOrder;
                                transitionOrder = (transitionOrder + users) % orders.Length;
                                var action = _suspended[index] ? "resume" : "suspend";
                                status = await host.SendAsync(HttpMethod.Post, $"/api/work-orders/{orders[index]}/transitions", dispatcher, new { action, note = "benchmark" });
                                if (status == HttpStatusCode.OK)
                                {
                                    _suspended[index] = !_suspended[index];
                                }
                                break;
                            default:
                                var id = $"LN-{Interlocked.Increment(ref _created):0000000}";
                                status = await host.SendAsync(HttpMethod.Post, "/api/work-orders", dispatcher, NewOrder(id, (int)n));
                                expected = HttpStatusCode.Created;
                                break;
                        }
                    }
                }
                catch (Exception error) when (!stop.IsCancellationRequested && error is HttpRequestException or TaskCanceledException)
                {
                    window.Record(user, kind, asked, error.Message);
                    continue;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                window.Record(user, kind, asked, status == expected ? null : $"{Mix[kind].Kind}: {(int)status} {status}");
            }
        }

        private static HttpStatusCode Dispose(HttpResponseMessage response)
        {
            using (response)
            {
                return response.StatusCode;
            }
        }

        private static int KindOf(int perMille)
        {
            for (var i = 0; i < Mix.Length; i++)
            {
                if ((perMille -= Mix[i].PerMille) < 0)
                {
                    return i;
                }
            }
            return Mix.Length - 1;
        }
    }

    /// <summary>Latencies recorded while the window is open, one list per user and kind so users never contend.</summary>
    private sealed class Window(int users, int kinds)
    {
        private readonly List<double>[,] _latencies = NewLists(users, kinds);
        private readonly int[,] _errors = new int[users, kinds];
        private volatile bool _open;
        private long _openedAt;
        private TimeSpan _length;
        private TimeSpan _cpuAtOpen;
        private TimeSpan _cpuSpent;

        public string Cpu { get; private set; } = "";

        public string? FirstError { get; private set; }

        public int Errors => _errors.Cast<int>().Sum();

        public int Requests => _latencies.Cast<List<double>>().Sum(l => l.Count);

        public double Rate => Requests / _length.TotalSeconds;

        /// <summary>This process's CPU time (server and load generator together) per request answered in the window:
        /// steadier than the rate on a machine whose other tenants take a varying share of the cores.</summary>
        public double CpuMicrosecondsPerRequest => _cpuSpent.TotalMicroseconds / Math.Max(1, Requests);

        public void Open()
        {
            _openedAt = Stopwatch.GetTimestamp();
            _cpuAtOpen = Process.GetCurrentProcess().TotalProcessorTime;
            _open = true;
        }

        public void Close(string cpu)
        {
            _open = false;
            _length = Stopwatch.GetElapsedTime(_openedAt);
            _cpuSpent = Process.GetCurrentProcess().TotalProcessorTime - _cpuAtOpen;
            Cpu = cpu;
        }

        public void Record(int user, int kind, long asked, string? error)
        {
            if (!_open)
            {
                return;
            }
            _latencies[user, kind].Add(Stopwatch.GetElapsedTime(asked).TotalMilliseconds);
            if (error is not null)
            {
                _errors[user, kind]++;
                FirstError ??= error;
            }
        }

        public int ErrorsOf(int kind) => Enumerable.Range(0, _errors.GetLength(0)).Sum(u => _errors[u, kind]);

        public double[] Latencies(int kind)
        {
            var all = Enumerable.Range(0, _latencies.GetLength(0)).SelectMany(u => _latencies[u, kind]).ToArray();
            Array.Sort(all);
            return all;
        }

        public double[] AllLatencies()
        {
            var all = _latencies.Cast<List<double>>().SelectMany(l => l).ToArray();
            Array.Sort(all);
            return all;
        }

        private static List<double>[,] NewLists(int users, int kinds)
        {
            var lists = new List<double>[users, kinds];
            for (var u = 0; u < users; u++)
            {
                for (var k = 0; k < kinds; k++)
                {
                    lists[u, k] = [];
                }
            }
            return lists;
        }
    }
}
