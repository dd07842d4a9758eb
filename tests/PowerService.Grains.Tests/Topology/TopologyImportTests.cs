using System.Text;
using PowerService.Grains.Crews;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.Topology;
using PowerService.Grains.Topology.Import;
using PowerService.Runtime.Storage;
using PowerService.Storage.PostgreSql;
using PowerService.TestSupport;
using PowerService.TestSupport.Topology;

namespace PowerService.Grains.Tests.Topology;

/// <summary>Importing topology CSV files the way the import endpoint will, then asking the grains. Runs on SQLite
/// and PostgreSQL: the import path differs per store (prepared INSERTs vs binary COPY).</summary>
public abstract class TopologyImportTests : IAsyncLifetime
{
    // 500 customers: 10 transformer areas of 50 and a supply meter each, 5 feeders, 1 grid; customer 50 is important,
    // none critical.
    private static readonly IReadOnlyDictionary<string, string> Sample = TopologySample.WriteToMemory(new TopologySampleSize(500));
    private static readonly ImportKind[] TopologyOrder =
        [ImportKind.Feeders, ImportKind.Grids, ImportKind.TransformerAreas, ImportKind.Meters, ImportKind.Customers];

    private WorkflowSilo _silo = null!;

    protected abstract Task<Func<ManualTimeProvider, IStorageProvider>?> OpenStoreAsync();

    public async Task InitializeAsync() => _silo = await WorkflowSilo.StartAsync(openStore: await OpenStoreAsync());

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    private TopologyImport Import => new(_silo.Silo);

    [Fact]
    public async Task Imported_files_answer_as_profiles_with_the_customer_resolved_through_meter_area_feeder_and_grid()
    {
        var results = await ImportSampleAsync();

        Assert.All(results, r => Assert.True(r.Succeeded, string.Join("; ", r.Errors)));
        Assert.Equal([5L, 1, 10, 510, 500], results.Select(r => r.Inserted));
        var customer = await _silo.Grain<ICustomerGrain>("CU-0000123").GetProfile();
        Assert.NotNull(customer);
        Assert.Equal(("MT-0000123", "TA-000003", "FD-000002", "GR-0001", "海口龙华"),
            (customer.MeterId, customer.TransformerAreaId, customer.FeederId, customer.GridId, customer.Region));
        Assert.Equal(AreaClass.Urban, customer.AreaClass);
        Assert.Equal(CustomerImportance.Ordinary, customer.Importance);
        Assert.InRange(customer.Location.DistanceKm(new GeoPoint(20.03, 110.33)), 0, 10);

        // What inference needs comes without the customers; the profile, asked for after it, reads them.
        var meters = await _silo.Grain<ITransformerAreaGrain>("TA-000001").GetMeters();
        Assert.Equal(new TransformerAreaMeters("TA-000001", "FD-000001", 50, "SM-000001"), meters);
        Assert.Null(await _silo.Grain<ITransformerAreaGrain>("TA-999999").GetMeters());
        var area = await _silo.Grain<ITransformerAreaGrain>("TA-000001").GetProfile();
        Assert.NotNull(area);
        Assert.Equal((50, 50, "SM-000001"), (area.MeterCount, area.CustomerCount, area.SupplyMeterId));
        var important = Assert.Single(area.ImportantCustomers);
        Assert.Equal(("CU-0000050", CustomerImportance.Important), (important.Id, important.Importance));
        Assert.Equal(2, (await _silo.Grain<IFeederGrain>("FD-000001").GetProfile())!.TransformerAreaIds.Count);
        var grid = await _silo.Grain<IServiceGridGrain>("GR-0001").GetProfile();
        Assert.False(string.IsNullOrEmpty(grid!.Manager.Phone));
        var meter = await _silo.Grain<IMeterGrain>("MT-0000500").GetProfile();
        Assert.Equal(("TA-000010", MeterRole.Customer), (meter!.TransformerAreaId, meter.Role));
        Assert.Equal(MeterRole.Supply, (await _silo.Grain<IMeterGrain>("SM-000010").GetProfile())!.Role);
        Assert.Null(await _silo.Grain<ICustomerGrain>("CU-9999999").GetProfile());
    }

    [Fact]
    public async Task Importing_the_same_files_again_changes_nothing_and_reports_every_row_unchanged()
    {
        await ImportSampleAsync();

        var again = await ImportSampleAsync();

        Assert.All(again, r => Assert.Equal((true, 0L, 0L, r.Rows), (r.Succeeded, r.Inserted, r.Updated, r.Unchanged)));
        Assert.Equal(500, await _silo.Storage.CountCatalogAsync(TopologyKinds.Customer));
    }

    [Fact]
    public async Task A_file_with_bad_rows_reports_each_with_its_line_and_column_and_imports_nothing()
    {
        await ImportSampleAsync(through: ImportKind.Meters);
        var csv = """
            customer_id,name,phone,meter_id,importance,area_class,latitude,longitude
            CU-1,王建国,13812345678,MT-0000001,ordinary,,20.03,110.33
            CU-2,李秀英,13812345678,MT-0000002,vip,,20.03,110.33
            CU-3,,13812345678,MT-0000003,ordinary,,20.03,110.33
            CU-4,张伟,13812345678,MT-0000004,ordinary,,north,110.33
            CU-1,刘洋,13812345678,MT-0000005,critical,,20.03,110.33
            CU-6,陈静,13812345678,MT-0000006,ordinary,,95,110.33
            CU-7,杨磊,13812345678,MT-0000007
            CU-8,周{ESC}[2J敏,13812345678,MT-0000008,ordinary,,20.03,110.33
            CU-9,吴芳,13812345678,MT-0000009,ordinary,,NaN,Infinity
            CU-10,郑强,13812345678,MT-0000010,"ordinary,critical",,20.03,110.33
            """.Replace("{ESC}", "\u001b", StringComparison.Ordinal);

        var result = await ImportTextAsync(ImportKind.Customers, csv);

        Assert.False(result.Succeeded);
        Assert.Equal(
        [
            (3, "importance"), (4, "name"), (5, "latitude"), (6, "customer_id"), (7, "latitude"), (8, null), (9, "name"),
            (10, "latitude"), (10, "longitude"), (11, "importance"),
        ], result.Errors.Select(e => (e.Line, e.Column)));
        Assert.Contains("'NaN' is not a number", result.Errors[7].Message, StringComparison.Ordinal);
        Assert.Contains("contains the control character U+001B; it takes plain text", result.Errors[6].Message, StringComparison.Ordinal);
        Assert.Contains("'vip' is not one of ordinary, important, critical", result.Errors[0].Message, StringComparison.Ordinal);
        Assert.Contains("already on line 2", result.Errors[3].Message, StringComparison.Ordinal);
        Assert.Equal(10, result.ErrorCount);
        Assert.Equal(0, await _silo.Storage.CountCatalogAsync(TopologyKinds.Customer));
        Assert.Null(await _silo.Grain<ICustomerGrain>("CU-1").GetProfile());
    }

    [Fact]
    public async Task A_meter_on_an_unknown_transformer_area_is_reported_with_its_line_and_no_meter_is_imported()
    {
        await ImportSampleAsync(through: ImportKind.TransformerAreas);
        var csv = """
            meter_id,area_id,latitude,longitude
            MT-1,TA-000001,20.03,110.33
            MT-2,TA-000001,20.03,110.33
            MT-3,TA-404,20.03,110.33
            MT-4,TA-000002,20.03,110.33
            """;

        var result = await ImportTextAsync(ImportKind.Meters, csv);

        var error = Assert.Single(result.Errors);
        Assert.Equal((4, "area_id"), (error.Line, error.Column));
        Assert.Contains("transformer area 'TA-404' does not exist", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await _silo.Storage.CountCatalogAsync(TopologyKinds.Meter));
    }

    [Fact]
    public async Task More_missing_parents_than_are_listed_are_listed_from_the_first_line_on_whatever_their_keys()
    {
        await ImportSampleAsync(through: ImportKind.TransformerAreas);
        // Keys that fall as the lines go down: the store finds missing parents in key order, the user reads by line.
        var rows = Enumerable.Range(0, 150).Select(i => $"MT-{999 - i},TA-404,20.03,110.33");
        var csv = "meter_id,area_id,latitude,longitude\n" + string.Join('\n', rows) + "\n";

        var result = await ImportTextAsync(ImportKind.Meters, csv);

        Assert.Equal(150, result.ErrorCount);
        Assert.Equal(Enumerable.Range(2, 100), result.Errors.Select(e => e.Line));
        Assert.Equal(0, await _silo.Storage.CountCatalogAsync(TopologyKinds.Meter));
    }

    [Fact]
    public async Task An_area_in_an_unknown_grid_is_reported_and_nothing_is_imported()
    {
        await ImportSampleAsync(through: ImportKind.Grids);
        var csv = """
            area_id,name,feeder_id,grid_id,region,area_class,latitude,longitude,capacity_kva
            TA-1,椰海大道1号台区,FD-000001,GR-0001,海口龙华,urban,20.03,110.33,400
            TA-2,椰海大道2号台区,FD-000001,GR-0099,海口龙华,Urban,20.03,110.33,400
            """;

        var result = await ImportTextAsync(ImportKind.TransformerAreas, csv);

        Assert.Equal([(3, "grid_id")], result.Errors.Select(e => (e.Line, e.Column)));
        Assert.Equal(0, await _silo.Storage.CountCatalogAsync(TopologyKinds.TransformerArea));
    }

    [Fact]
    public async Task A_meter_role_other_than_customer_or_supply_and_a_second_supply_meter_in_an_area_are_reported_by_line()
    {
        await ImportSampleAsync(through: ImportKind.TransformerAreas);
        var csv = """
            meter_id,area_id,latitude,longitude,role
            MT-1,TA-000001,20.03,110.33,
            SM-1,TA-000001,20.03,110.33,supply
            MT-2,TA-000001,20.03,110.33,master
            SM-2,TA-000001,20.03,110.33,Supply
            SM-3,TA-000002,20.03,110.33,supply
            """;

        var result = await ImportTextAsync(ImportKind.Meters, csv);

        Assert.Equal([(4, "role"), (5, "role")], result.Errors.Select(e => (e.Line, e.Column)));
        Assert.Contains("'master' is not one of customer, supply", result.Errors[0].Message, StringComparison.Ordinal);
        Assert.Contains("transformer area 'TA-000001' already has supply meter 'SM-1' on line 3", result.Errors[1].Message, StringComparison.Ordinal);
        Assert.Equal(0, await _silo.Storage.CountCatalogAsync(TopologyKinds.Meter));
    }

    [Fact]
    public async Task A_second_supply_meter_for_an_area_that_has_one_from_an_earlier_import_is_refused_unless_the_first_is_listed_as_a_customer_meter()
    {
        await ImportSampleAsync(through: ImportKind.Meters);
        var second = """
            meter_id,area_id,latitude,longitude,role
            SM-NEW,TA-000001,20.03,110.33,supply
            """;
        var replacing = second + "\nSM-000001,TA-000001,20.03,110.33,customer\n";

        var refused = await ImportTextAsync(ImportKind.Meters, second);
        var replaced = await ImportTextAsync(ImportKind.Meters, replacing);

        var error = Assert.Single(refused.Errors);
        Assert.Equal((2, "role"), (error.Line, error.Column));
        Assert.Contains("already has supply meter 'SM-000001' (imported before)", error.Message, StringComparison.Ordinal);
        Assert.True(replaced.Succeeded, string.Join("; ", replaced.Errors));
        var area = await _silo.Grain<ITransformerAreaGrain>("TA-000001").GetProfile();
        Assert.Equal(("SM-NEW", 51), (area!.SupplyMeterId, area.MeterCount));
    }

    [Theory]
    [InlineData("", null, "the file is empty")]
    [InlineData("meter_id,latitude,longitude\nMT-1,20,110\n", "area_id", "required column 'area_id' is missing")]
    [InlineData("meter_id,area,latitude,longitude\nMT-1,TA-1,20,110\n", "area", "unknown column 'area'")]
    public async Task A_missing_or_wrong_header_is_a_clear_error_on_line_1(string csv, string? column, string message)
    {
        var result = await ImportTextAsync(ImportKind.Meters, csv);

        Assert.False(result.Succeeded);
        Assert.Contains(result.Errors, e => e.Line == 1 && e.Column == column && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Quoted_fields_keep_commas_quotes_and_line_breaks_and_an_unclosed_quote_is_reported()
    {
        await ImportSampleAsync(through: ImportKind.Meters);
        var csv = "customer_id,name,phone,meter_id,importance,area_class,latitude,longitude\r\n" +
            "CU-1,\"海口市\"\"第一\"\"人民医院, 急诊\nB栋\",,MT-0000001,Critical,,20.03,110.33\r\n";
        var broken = "customer_id,name,phone,meter_id,importance,area_class,latitude,longitude\n" +
            "CU-1,ok,,MT-0000001,ordinary,,20.03,110.33\nCU-2,\"never closed,,MT-0000002,ordinary,,20.03,110.33\n";

        var imported = await ImportTextAsync(ImportKind.Customers, csv);
        var rejected = await ImportTextAsync(ImportKind.Customers, broken);

        Assert.True(imported.Succeeded, string.Join("; ", imported.Errors));
        var profile = await _silo.Grain<ICustomerGrain>("CU-1").GetProfile();
        Assert.Equal(("海口市\"第一\"人民医院, 急诊\nB栋", CustomerImportance.Critical), (profile!.Name, profile.Importance));
        Assert.Equal((3, "not valid CSV"), (rejected.Errors.Single().Line, rejected.Errors.Single().Message[..13]));
    }

    [Fact]
    public async Task An_id_the_API_could_not_address_is_an_error_on_its_line()
    {
        await ImportSampleAsync(through: ImportKind.Grids);
        var csv = """
            area_id,name,feeder_id,grid_id,region,area_class,latitude,longitude,capacity_kva
            TA.X1,dot,FD-000001,GR-0001,海口龙华,urban,20.05,110.33,100
            台区1,chinese,FD-000001,GR-0001,海口龙华,urban,20.05,110.33,100
            TA-OK_1,fine,FD-000001,GR-0001,海口龙华,urban,20.05,110.33,100
            """;

        var result = await ImportTextAsync(ImportKind.TransformerAreas, csv);

        // An outage on TA.X1 would get the repair order WO-OUT-TA.X1-1, which no address of the API reaches.
        Assert.False(result.Succeeded);
        Assert.Equal([(2, "area_id"), (3, "area_id")], result.Errors.Select(e => (e.Line, e.Column)));
        Assert.Contains("ASCII letters, digits, '-' and '_'", result.Errors[0].Message, StringComparison.Ordinal);
        Assert.Null(await _silo.Grain<ITransformerAreaGrain>("TA-OK_1").GetProfile());
    }

    [Fact]
    public async Task A_file_saved_as_GBK_is_refused_at_its_first_line_that_is_not_UTF8_instead_of_importing_garbage()
    {
        await ImportSampleAsync(through: ImportKind.Grids);
        var csv = "area_id,name,feeder_id,grid_id,region,area_class,latitude,longitude,capacity_kva\n" +
            "TA-G1,plain ascii,FD-000001,GR-0001,R1,urban,20.05,110.33,100\n" +
            "TA-G2,海口龙华第9台区,FD-000001,GR-0001,海口龙华,urban,20.05,110.33,100\n";
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        var gbk = new MemoryStream(Encoding.GetEncoding("GBK").GetBytes(csv));

        var result = await Import.ImportAsync(ImportKind.TransformerAreas, gbk, "dispatcher-7");

        Assert.False(result.Succeeded);
        // Line 2 is ASCII (its region, not its feeder's, is reported too); line 3 is where the GBK bytes begin.
        Assert.Equal(3, Assert.Single(result.Errors, e => e.Message.Contains("not UTF-8", StringComparison.Ordinal)).Line);
        Assert.Equal([2, 3], result.Errors.Select(e => e.Line));
        Assert.Null(await _silo.Grain<ITransformerAreaGrain>("TA-G1").GetProfile());
    }

    [Fact]
    public async Task A_line_longer_than_any_record_is_refused_without_reading_it_whole()
    {
        var header = "feeder_id,name,substation_id,substation_name,region\n";
        var endless = new string('x', CsvReader.MaxLineLength * 4);

        var manyLines = string.Concat(Enumerable.Repeat(new string('x', 1000) + "\n", 100));
        var result = await ImportTextAsync(ImportKind.Feeders, header + "FD-9,\"" + manyLines + "\",SS-1,S,R1\n");
        var unquoted = await ImportTextAsync(ImportKind.Feeders, header + "FD-9," + endless + ",SS-1,S,R1\n");

        Assert.Contains("quoted field runs on past", result.Errors.Single().Message, StringComparison.Ordinal);
        Assert.Equal((2, "not valid CSV: the line is longer than 65,536 characters"), (unquoted.Errors.Single().Line, unquoted.Errors.Single().Message));
    }

    [Fact]
    public async Task Reimporting_a_changed_row_updates_it_and_an_active_grain_sees_the_change()
    {
        await ImportSampleAsync();
        var customer = _silo.Grain<ICustomerGrain>("CU-0000002");
        var area = _silo.Grain<ITransformerAreaGrain>("TA-000001");
        Assert.Equal(CustomerImportance.Ordinary, (await customer.GetProfile())!.Importance);
        Assert.Single((await area.GetProfile())!.ImportantCustomers);
        var changed = Sample["customers.csv"].Replace(",MT-0000002,ordinary,", ",MT-0000002,critical,", StringComparison.Ordinal);

        var result = await ImportTextAsync(ImportKind.Customers, changed);

        Assert.Equal((0L, 1L, 499L), (result.Inserted, result.Updated, result.Unchanged));
        Assert.Equal(CustomerImportance.Critical, (await customer.GetProfile())!.Importance);
        Assert.Equal(["CU-0000002", "CU-0000050"], (await area.GetProfile())!.ImportantCustomers.Select(c => c.Id));
    }

    [Fact]
    public async Task Progress_counts_the_rows_and_ends_completed()
    {
        await ImportSampleAsync(through: ImportKind.TransformerAreas);
        var reports = new List<ImportProgress>();

        await Import.ImportAsync(ImportKind.Meters, Utf8(Sample["meters.csv"]), "dispatcher-7", new SynchronousProgress(reports));

        Assert.Equal(new ImportProgress(ImportKind.Meters, 510, Completed: true), reports[^1]);
    }

    [Fact]
    public async Task A_crews_file_with_a_bad_row_registers_no_crew()
    {
        var csv = """
            crew_id,name,region,skills,capacity,home_latitude,home_longitude,shift_start,shift_end
            CR-1,龙华抢修1班,海口龙华,LowVoltageRepair;Metering,3,20.03,110.33,08:00,20:00
            CR-2,龙华抢修2班,海口龙华,LowVoltageRepair|Welding,3,20.03,110.33,08:00,20:00
            CR-3,龙华抢修3班,海口龙华,Metering,0,20.03,110.33,8:00,25:00
            """;
        var activations = _silo.Silo.ActivationCount; // the silo's own (the recovery checkpoint)

        var result = await ImportTextAsync(ImportKind.Crews, csv);

        Assert.False(result.Succeeded);
        Assert.Equal([(3, "skills"), (4, "capacity"), (4, "shift_end")], result.Errors.Select(e => (e.Line, e.Column)));
        Assert.Equal(activations, _silo.Silo.ActivationCount); // no crew grain was activated
    }

    /// <summary>Rows the file's own checks pass but the crew grain would refuse (an id no URL reaches, a home that is
    /// no place) are errors of the file too: before, the rows ahead of them were registered and the file answered 400.</summary>
    [Fact]
    public async Task A_crews_file_with_a_row_the_crew_grain_would_refuse_registers_no_crew()
    {
        var csv = """
            crew_id,name,region,skills,capacity,home_latitude,home_longitude,shift_start,shift_end
            CR-1,龙华抢修1班,海口龙华,LowVoltageRepair;Metering,3,20.03,110.33,08:00,20:00
            CR~2,龙华抢修2班,海口龙华,LowVoltageRepair,3,20.03,110.33,08:00,20:00
            CR/3,龙华抢修3班,海口龙华,LowVoltageRepair,3,20.03,110.33,08:00,20:00
            CR-4,龙华抢修4班,海口龙华,LowVoltageRepair,3,NaN,110.33,08:00,20:00
            """;

        var result = await ImportTextAsync(ImportKind.Crews, csv);

        Assert.False(result.Succeeded);
        Assert.Equal([(3, "crew_id"), (4, "crew_id"), (5, "home_latitude")], result.Errors.Select(e => (e.Line, e.Column)));
        Assert.Contains("ASCII letters, digits, '-' and '_' only", result.Errors[0].Message, StringComparison.Ordinal);
        Assert.Null(await _silo.Grain<IFieldCrewGrain>("CR-1").Get());
    }

    [Fact]
    public async Task A_crews_file_registers_each_crew_with_its_week_of_shifts_and_a_reimport_changes_nothing()
    {
        var first = await ImportTextAsync(ImportKind.Crews, Sample["crews.csv"]);
        var again = await ImportTextAsync(ImportKind.Crews, Sample["crews.csv"]);

        Assert.Equal((true, 3L, 0L), (first.Succeeded, first.Inserted, first.Unchanged));
        Assert.Equal((true, 0L, 0L, 3L), (again.Succeeded, again.Inserted, again.Updated, again.Unchanged));
        var night = await _silo.Grain<IFieldCrewGrain>("CR-0003").Get();
        Assert.NotNull(night);
        Assert.Equal(("海口秀英", 7), (night.Profile.Region, night.Profile.Shifts.Count));
        Assert.Equal([CrewSkill.Metering, CrewSkill.Connection, CrewSkill.Survey], night.Profile.Skills);
        // 20:00 to 08:00 China time, starting on the import day (the silo clock: Monday 2026-11-23).
        Assert.Equal(new Shift(new DateTimeOffset(2026, 11, 23, 20, 0, 0, TimeSpan.FromHours(8)), new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.FromHours(8))),
            night.Profile.Shifts[0]);
    }

    [Fact]
    public async Task A_night_crew_imported_after_midnight_is_on_the_shift_that_began_last_evening()
    {
        // Monday 03:00 China time: CR-0003's 20:00–08:00 shift began on Sunday evening and is on now.
        await using var silo = await WorkflowSilo.StartAsync(start: new DateTimeOffset(2026, 11, 23, 3, 0, 0, TimeSpan.FromHours(8)));

        var result = await new TopologyImport(silo.Silo).ImportAsync(ImportKind.Crews, Utf8(Sample["crews.csv"]), "dispatcher-7");

        Assert.True(result.Succeeded);
        var night = (await silo.Grain<IFieldCrewGrain>("CR-0003").Get())!;
        Assert.Equal(new Shift(new DateTimeOffset(2026, 11, 22, 20, 0, 0, TimeSpan.FromHours(8)), new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.FromHours(8))),
            night.Profile.Shifts[0]);
        Assert.Equal(8, night.Profile.Shifts.Count);
    }

    private async Task<List<ImportResult>> ImportSampleAsync(ImportKind through = ImportKind.Customers)
    {
        var results = new List<ImportResult>();
        foreach (var kind in TopologyOrder.TakeWhile(k => k <= through))
        {
            results.Add(await ImportTextAsync(kind, Sample[kind.Name() + ".csv"]));
        }
        return results;
    }

    private Task<ImportResult> ImportTextAsync(ImportKind kind, string csv) => Import.ImportAsync(kind, Utf8(csv), "dispatcher-7");

    private static MemoryStream Utf8(string text) => new(Encoding.UTF8.GetBytes(text));

    /// <summary>Progress&lt;T&gt; posts to the thread pool; a test wants the reports in hand when the import returns.</summary>
    private sealed class SynchronousProgress(List<ImportProgress> reports) : IProgress<ImportProgress>
    {
        public void Report(ImportProgress value) => reports.Add(value);
    }
}

public sealed class SqliteTopologyImportTests : TopologyImportTests
{
    protected override Task<Func<ManualTimeProvider, IStorageProvider>?> OpenStoreAsync() =>
        Task.FromResult<Func<ManualTimeProvider, IStorageProvider>?>(null);
}

[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlTopologyImportTests(PostgresFixture postgres) : TopologyImportTests
{
    protected override async Task<Func<ManualTimeProvider, IStorageProvider>?> OpenStoreAsync()
    {
        var connectionString = await postgres.Cluster.CreateDatabaseAsync($"topology_{Guid.NewGuid():N}") + ";Maximum Pool Size=10";
        return clock => new PostgreSqlStorageProvider(new PostgreSqlStorageOptions { ConnectionString = connectionString, TimeProvider = clock });
    }
}
