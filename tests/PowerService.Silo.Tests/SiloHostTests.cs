using System.Net.Http.Json;
using System.Text.Json;
using PowerService.TestSupport;

namespace PowerService.Silo.Tests;

public sealed class SiloHostTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_silo_starts_on_the_embedded_store_and_shuts_down_gracefully_on_sigterm()
    {
        var folder = Directory.CreateTempSubdirectory("powerservice-sqlite-").FullName;
        var database = Path.Combine(folder, "nested", "silo.db");
        await using var silo = SiloProcess.Start([$"--Storage:ConnectionString=Data Source={database}"]);

        using var ready = await silo.WaitUntilReadyAsync(Startup);
        var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("sqlite", body.GetProperty("store").GetString());

        Assert.Equal(0, await silo.TerminateAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Silo started on sqlite storage: 256 partitions", silo.Output);
        Assert.Contains("Silo stopped:", silo.Output);
        Assert.True(File.Exists(database), "the SQLite file (and its missing folder) is created");
    }

    [Fact]
    public async Task The_store_and_silo_settings_come_from_the_environment()
    {
        await using var cluster = await PostgresCluster.StartAsync();
        var connectionString = await cluster.CreateDatabaseAsync("silo_host");
        await using var silo = SiloProcess.Start([], new Dictionary<string, string>
        {
            ["Storage__Provider"] = "postgresql",
            ["Storage__ConnectionString"] = connectionString,
            ["Silo__PartitionCount"] = "64",
        });

        using var ready = await silo.WaitUntilReadyAsync(Startup);
        var body = await ready.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("postgresql", body.GetProperty("store").GetString());
        Assert.Contains("64 partitions", silo.Output);
        Assert.Equal(0, await silo.TerminateAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Readiness_says_when_the_store_stops_answering_and_when_it_answers_again()
    {
        await using var cluster = await PostgresCluster.StartAsync(new PostgresClusterOptions { Fsync = false, UseExternalServer = false });
        var connectionString = await cluster.CreateDatabaseAsync("silo_ready");
        await using var silo = SiloProcess.Start([], new Dictionary<string, string>
        {
            ["Storage__Provider"] = "postgresql",
            ["Storage__ConnectionString"] = connectionString,
        });
        (await silo.WaitUntilReadyAsync(Startup)).Dispose();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{silo.Port}") };

        await cluster.StopAsync();
        var down = await StatusWithinAsync(http, System.Net.HttpStatusCode.ServiceUnavailable);
        await cluster.StartAgainAsync();
        var back = await StatusWithinAsync(http, System.Net.HttpStatusCode.OK);

        Assert.Equal("Store unavailable", down.GetProperty("title").GetString());
        Assert.Equal("postgresql", back.GetProperty("store").GetString());
        Assert.Equal(0, await silo.TerminateAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Asks readiness until it answers <paramref name="status"/> (a probe is kept 2 s), within 30 s.</summary>
    private static async Task<JsonElement> StatusWithinAsync(HttpClient http, System.Net.HttpStatusCode status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await http.GetAsync("/health/ready");
            if (response.StatusCode == status)
            {
                return await response.Content.ReadFromJsonAsync<JsonElement>();
            }
            Assert.True(DateTime.UtcNow < deadline, $"readiness still answers {response.StatusCode}, not {status}");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task An_unknown_store_stops_the_silo_with_a_message_naming_the_setting()
    {
        await using var silo = SiloProcess.Start(["--Storage:Provider=oracle"]);

        var exitCode = await silo.WaitForExitAsync(Startup);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Storage:Provider must be 'sqlite' or 'postgresql', not 'oracle'", silo.Output);
    }

    /// <summary>A connection string naming a file that is not a database (or a folder, or a read-only volume) aborted the
    /// process with an unhandled exception and a stack trace that named neither the file nor the setting.</summary>
    [Fact]
    public async Task A_store_file_that_is_not_a_database_stops_the_silo_with_one_line_naming_it_and_the_setting()
    {
        var database = Path.Combine(Directory.CreateTempSubdirectory("powerservice-sqlite-").FullName, "notes.txt");
        await File.WriteAllTextAsync(database, "shift notes, not a database\n");
        await using var silo = SiloProcess.Start([$"--Storage:ConnectionString=Data Source={database}"]);

        var exitCode = await silo.WaitForExitAsync(Startup);

        Assert.Equal(1, exitCode);
        Assert.Contains($"PowerService silo could not start: SQLite database '{database}' cannot be opened for writing", silo.Output);
        Assert.Contains("Storage:ConnectionString", silo.Output);
        Assert.DoesNotContain("Unhandled exception", silo.Output);
    }

    /// <summary>A notice folder the silo cannot write started a silo whose every notice failed, retried each lease,
    /// with a warning per channel in the log; the mistake is found at start now.</summary>
    [Fact]
    public async Task A_notice_folder_that_cannot_be_written_stops_the_silo_with_one_line_naming_the_setting()
    {
        var folder = Directory.CreateTempSubdirectory("powerservice-sqlite-").FullName;
        var notAFolder = Path.Combine(folder, "notices.txt");
        await File.WriteAllTextAsync(notAFolder, "a file where the folder should be\n");
        await using var silo = SiloProcess.Start([$"--Storage:ConnectionString=Data Source={Path.Combine(folder, "silo.db")}", $"--Workflow:Notices:Folder={Path.Combine(notAFolder, "notices")}"]);

        var exitCode = await silo.WaitForExitAsync(Startup);

        Assert.Equal(1, exitCode);
        Assert.Contains("PowerService silo could not start: The notice folder (Workflow:Notices:Folder)", silo.Output);
        Assert.DoesNotContain("Hosting failed to start", silo.Output); // one line, not the host's stack trace too
    }

    /// <summary>"30" reads as 30 days: a call timeout meant as 30 seconds made calls that never time out.</summary>
    [Theory]
    [InlineData("--Silo:CallTimeout=30", "Silo:CallTimeout is '30', which would read as 30 days")]
    [InlineData("--Workflow:Ingestion:LogRetention=300", "Workflow:Ingestion:LogRetention is '300', which would read as 300 days")]
    [InlineData("--Workflow:Callback:RetryDelays:0=600", "Workflow:Callback:RetryDelays:0 is '600', which would read as 600 days")]
    [InlineData("--Silo:CallTimeout=90", "e.g. 00:01:30 for 90 seconds")]
    [InlineData("--Workflow:Sla:Rules:0:Limit=30", "Workflow:Sla:Rules:0:Limit is '30', which would read as 30 days")]
    public async Task A_duration_given_as_a_bare_number_stops_the_silo_saying_how_to_write_it(string setting, string message)
    {
        var output = await RefusedAtStartAsync(setting);

        Assert.Contains(message, output);
        Assert.Contains("write a duration as [d.]hh:mm:ss", output);
    }

    /// <summary>"off" would acknowledge writes SQLite has not even handed to the operating system: refused, not taken.
    /// The other settings here started the silo half-broken: every plan refused ("cut -1 or more times within 0 months")
    /// without naming the setting, plans accepted whose notices were never written (only a warning in the log), or every
    /// client behind a proxy sharing one rate-limit bucket.</summary>
    [Theory]
    [InlineData("Storage:Synchronous must be 'full' or 'normal', not 'off'", "--Storage:Synchronous=off")]
    [InlineData("PartitionCount must be between 1 and 65536", "--Silo:PartitionCount=0")]
    [InlineData("Workflow:PlannedOutages:RepeatedOutageThreshold must be at least 1", "--Workflow:PlannedOutages:RepeatedOutageThreshold=-1")]
    [InlineData("Workflow:PlannedOutages:RepeatedOutageWindowMonths must be at least 1", "--Workflow:PlannedOutages:RepeatedOutageWindowMonths=0")]
    [InlineData("Workflow:PlannedOutages:EarlyStart must not be negative", "--Workflow:PlannedOutages:EarlyStart=-00:30:00")]
    [InlineData("Workflow:PlannedOutages:MaxDuration must be positive", "--Workflow:PlannedOutages:MaxDuration=00:00:00")]
    [InlineData("Workflow:Notices:LocalOffset must be whole minutes between -14:00:00 and 14:00:00", "--Workflow:Notices:LocalOffset=25:00:00")]
    [InlineData("Api:TrustedProxies: 'proxy.local' is not an IP address or a network", "--Api:TrustedProxies:0=10.0.0.0/8", "--Api:TrustedProxies:1=proxy.local")]
    [InlineData("Api:AllowedOrigins: 'https://crm.example.com/app' is not a web origin", "--Api:AllowedOrigins:0=https://crm.example.com/app")]
    [InlineData("Workflow:Outages:MomentaryAtMost must not be negative", "--Workflow:Outages:MomentaryAtMost=-00:01:00")]
    [InlineData("Workflow:Outages:ConfirmShare must be a share in (0, 1], at least SuspectShare", "--Workflow:Outages:ConfirmShare=0.1")]
    public async Task A_setting_out_of_its_range_stops_the_silo_with_a_message_naming_it(string message, params string[] settings)
    {
        Assert.Contains(message, await RefusedAtStartAsync(settings));
    }

    /// <summary>The configuration binder leaves out a list entry it cannot read, without a word: a mistyped holiday, an
    /// SLA rule with a misspelt basis or without its kind started the silo on the default promises (urban arrival in
    /// 45 minutes where 2 were configured), and a callback list whose one delay read "2h" left no retry at all (the first
    /// "could not reach" closed the order). Each stops the silo naming the entry; so do limits that break the clocks.</summary>
    [Theory]
    [InlineData("Workflow:Sla:Holidays:1 could not be read", "--Workflow:Sla:Holidays:0=2026-12-09", "--Workflow:Sla:Holidays:1=2026-13-01")]
    [InlineData("Workflow:Sla:MakeUpWorkingDays:0 could not be read", "--Workflow:Sla:MakeUpWorkingDays:0=2026-12-12x")]
    [InlineData("Workflow:Callback:RetryDelays:0 could not be read", "--Workflow:Callback:RetryDelays:0=2h")]
    [InlineData("Workflow:Sla:Rules:0:Basis", "--Workflow:Sla:Rules:0:Clock=Contact", "--Workflow:Sla:Rules:0:Kind=Complaint", "--Workflow:Sla:Rules:0:StartsAt=Receipt",
        "--Workflow:Sla:Rules:0:StopsAt=Accept", "--Workflow:Sla:Rules:0:Limit=00:03:00", "--Workflow:Sla:Rules:0:Basis=Bogus")]
    [InlineData("Workflow:Sla:Rules:0 could not be read", "--Workflow:Sla:Rules:0:Clock=Contact", "--Workflow:Sla:Rules:0:StartsAt=Receipt",
        "--Workflow:Sla:Rules:0:StopsAt=Accept", "--Workflow:Sla:Rules:0:Limit=00:03:00", "--Workflow:Sla:Rules:0:Basis=Elapsed")]
    [InlineData("Workflow:Sla:Rules the Arrival rule of FaultRepair (Urban): Limit must be positive, not -00:02:00", "--Workflow:Sla:Rules:0:Clock=Arrival", "--Workflow:Sla:Rules:0:Kind=FaultRepair",
        "--Workflow:Sla:Rules:0:StartsAt=Receipt", "--Workflow:Sla:Rules:0:StopsAt=Arrival", "--Workflow:Sla:Rules:0:Limit=-00:02:00", "--Workflow:Sla:Rules:0:Basis=Elapsed", "--Workflow:Sla:Rules:0:Area=Urban")]
    // Two configured rules for one promise: the later one silently applied.
    [InlineData("Workflow:Sla:Rules:0 and Workflow:Sla:Rules:1 are both the Arrival rule of FaultRepair (Urban): keep one",
        "--Workflow:Sla:Rules:0:Clock=Arrival", "--Workflow:Sla:Rules:0:Kind=FaultRepair", "--Workflow:Sla:Rules:0:StartsAt=Receipt", "--Workflow:Sla:Rules:0:StopsAt=Arrival",
        "--Workflow:Sla:Rules:0:Limit=00:30:00", "--Workflow:Sla:Rules:0:Basis=Elapsed", "--Workflow:Sla:Rules:0:Area=Urban",
        "--Workflow:Sla:Rules:1:Clock=Arrival", "--Workflow:Sla:Rules:1:Kind=FaultRepair", "--Workflow:Sla:Rules:1:StartsAt=Receipt", "--Workflow:Sla:Rules:1:StopsAt=Arrival",
        "--Workflow:Sla:Rules:1:Limit=00:20:00", "--Workflow:Sla:Rules:1:Basis=Elapsed", "--Workflow:Sla:Rules:1:Area=Urban")]
    [InlineData("Workflow:Sla:WarnAtShare must be a share in (0, 1)", "--Workflow:Sla:WarnAtShare=1.5")]
    [InlineData("Workflow:Sla:SecondEscalationAtShare must be more than 1", "--Workflow:Sla:SecondEscalationAtShare=0.5")]
    [InlineData("Workflow:Callback:DueWithin must be positive", "--Workflow:Callback:DueWithin=-01:00:00")]
    [InlineData("Workflow:Callback:RetryDelays:1 must be positive", "--Workflow:Callback:RetryDelays:0=02:00:00", "--Workflow:Callback:RetryDelays:1=00:00:00")]
    public async Task A_list_entry_that_does_not_read_or_a_promise_that_cannot_hold_stops_the_silo_naming_it(string message, params string[] settings)
    {
        Assert.Contains(message, await RefusedAtStartAsync(settings));
    }

    /// <summary>A port another process holds ended the silo with a 70-line stack trace and exit code 134.</summary>
    [Fact]
    public async Task A_port_another_process_holds_stops_the_silo_with_one_line_naming_it()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;

        var output = await RefusedAtStartAsync($"--urls=http://127.0.0.1:{port}");

        Assert.Contains($"PowerService silo could not start: Failed to bind to address http://127.0.0.1:{port}", output);
        Assert.DoesNotContain("   at ", output);
    }

    /// <summary>Starts the silo on a fresh store with <paramref name="settings"/>, expects it to refuse to start (exit code
    /// 1, one line for the operator) and returns what it wrote.</summary>
    private static async Task<string> RefusedAtStartAsync(params string[] settings)
    {
        var database = Path.Combine(Directory.CreateTempSubdirectory("powerservice-sqlite-").FullName, "silo.db");
        await using var silo = SiloProcess.Start([$"--Storage:ConnectionString=Data Source={database}", .. settings]);

        var exitCode = await silo.WaitForExitAsync(Startup);

        Assert.Equal(1, exitCode);
        return silo.Output;
    }
}
