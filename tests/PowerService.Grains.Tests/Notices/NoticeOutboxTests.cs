using System.Collections.Concurrent;
using System.Text;
using PowerService.Grains.Notices;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.Topology;
using PowerService.Grains.Topology.Import;
using PowerService.TestSupport;
using PowerService.TestSupport.Topology;

namespace PowerService.Grains.Tests.Notices;

/// <summary>Outage notices as customers receive them: enqueued through <see cref="INoticeOutbox"/> (as the outage grain
/// does), delivered by the silo's notice delivery, read back from the file-backed channels.</summary>
public sealed class NoticeOutboxTests : IAsyncLifetime
{
    // 150 customers on their own meters: 3 transformer areas of 50; one in ten has no phone (default channel: app).
    private static readonly IReadOnlyDictionary<string, string> Sample = TopologySample.WriteToMemory(new TopologySampleSize(150));
    private static readonly ImportKind[] TopologyOrder =
        [ImportKind.Feeders, ImportKind.Grids, ImportKind.TransformerAreas, ImportKind.Meters, ImportKind.Customers];
    private static readonly DateTimeOffset Now = WorkflowSilo.MondayMorning;
    private static readonly TimeSpan Lease = new NoticeOptions().Lease;

    private readonly SmsGateway _sms = new();
    private WorkflowSilo _silo = null!;
    private int _barriers;

    private volatile bool _weChatConfigured = true;

    public async Task InitializeAsync() =>
        // The SMS adapter is the test's gateway over the file-backed channel; app and WeChat are the plain file channels.
        _silo = await WorkflowSilo.StartAsync(o =>
        {
            o.Notices.Adapters.Add(_sms.Over(o.Notices.Folder));
            if (!_weChatConfigured)
            {
                o.Notices.FileChannels.Remove(NoticeChannelNames.WeChat);
            }
        });

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    private INoticeOutbox Outbox => (INoticeOutbox)_silo.Silo.Services.GetService(typeof(INoticeOutbox))!;

    [Fact]
    public async Task An_outage_notice_reaches_every_customer_of_the_area_once_by_sms_or_by_app_without_a_phone()
    {
        await ImportSampleAsync();
        var customers = await CustomersOfAreaAsync("TA-000001");
        var notice = new OutageNotice(NoticeKind.OutageDetected, "OUT-1", 0, Now, Now, Now.AddHours(3), "10 kV 线路故障");

        var added = await Outbox.EnqueueAsync(notice, new NoticeAudience(["TA-000001"]));

        Assert.Equal(50, added);
        await Eventually.True(() => DeliveredFor("OUT-1").Count == 50, "every customer of TA-000001 got the notice");
        var delivered = DeliveredFor("OUT-1");
        Assert.Equal(customers.Select(c => c.Id).Order(), delivered.Select(n => n.CustomerId).Order());
        foreach (var customer in customers)
        {
            var received = delivered.Single(n => n.CustomerId == customer.Id);
            Assert.Equal(customer.Phone is null ? ("app", customer.Id) : ("sms", customer.Phone), (received.Channel, received.Recipient));
        }
        Assert.Contains(customers, c => c.Phone is null);
        Assert.All(delivered, n => Assert.Contains("预计 2026-11-23 12:00 恢复供电", n.Text, StringComparison.Ordinal));
        Assert.All(delivered, n => Assert.Contains("10 kV 线路故障", n.Text, StringComparison.Ordinal));

        Assert.Equal(0, await Outbox.EnqueueAsync(notice, new NoticeAudience(["TA-000001"])));
        await DeliveryBarrierAsync();
        Assert.Equal(50, DeliveredFor("OUT-1").Count);
    }

    [Fact]
    public async Task Each_revision_and_kind_is_a_notice_of_its_own_and_each_reaches_a_customer_once()
    {
        await ImportSampleAsync();
        var audience = new NoticeAudience(["TA-000002"]);

        await Outbox.EnqueueAsync(new OutageNotice(NoticeKind.OutageDetected, "OUT-2", 0, Now, Now, Now.AddHours(3)), audience);
        await Outbox.EnqueueAsync(new OutageNotice(NoticeKind.RestorationEstimateChanged, "OUT-2", 1, Now, Now, Now.AddHours(4)), audience);
        await Outbox.EnqueueAsync(new OutageNotice(NoticeKind.RestorationEstimateChanged, "OUT-2", 2, Now, Now, Now.AddHours(5)), audience);
        await Outbox.EnqueueAsync(new OutageNotice(NoticeKind.RestorationEstimateChanged, "OUT-2", 2, Now, Now, Now.AddHours(5)), audience);
        await Outbox.EnqueueAsync(new OutageNotice(NoticeKind.PowerRestored, "OUT-2", 0, Now.AddHours(4)), audience);

        await Eventually.True(() => DeliveredFor("OUT-2").Count == 200, "four notices reached each of the 50 customers");
        await DeliveryBarrierAsync();
        var delivered = DeliveredFor("OUT-2");
        Assert.Equal(200, delivered.Count);
        Assert.All(delivered.GroupBy(n => n.CustomerId), perCustomer => Assert.Equal(
            ["OutageDetected", "PowerRestored", "RestorationEstimateChanged", "RestorationEstimateChanged"], perCustomer.Select(n => n.Kind).Order()));
        Assert.Contains(delivered, n => n.Text.Contains("调整为 2026-11-23 14:00", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_meter_scoped_notice_reaches_only_the_customers_on_those_meters()
    {
        await ImportSampleAsync();

        var added = await Outbox.EnqueueAsync(
            new OutageNotice(NoticeKind.OutageDetected, "OUT-3", 0, Now), new NoticeAudience(["TA-000001"], ["MT-0000003", "MT-0000007", "MT-0000007"]));

        Assert.Equal(2, added);
        await DeliveryBarrierAsync();
        Assert.Equal(["CU-0000003", "CU-0000007"], DeliveredFor("OUT-3").Select(n => n.CustomerId).Order());
    }

    /// <summary>The outbox kept every notice ever delivered (~570 B each; a million-customer storm, 0.6 GB a wave): a
    /// delivered notice is deleted 30 days after delivery, its key with it, by the delivery once an hour.</summary>
    [Fact]
    public async Task A_delivered_notice_leaves_the_outbox_30_days_after_its_delivery()
    {
        await ImportSampleAsync();
        var notice = new OutageNotice(NoticeKind.OutageDetected, "OUT-OLD", 0, Now, Now, Now.AddHours(3));
        var audience = new NoticeAudience(["TA-000001"]);
        await Outbox.EnqueueAsync(notice, audience);
        await Eventually.True(() => DeliveredFor("OUT-OLD").Count == 50, "the notice was delivered");

        _silo.Advance(TimeSpan.FromDays(29));
        await DeliveryBarrierAsync();
        Assert.Equal(0, await Outbox.EnqueueAsync(notice, audience)); // still kept: not sent twice

        _silo.Advance(TimeSpan.FromDays(2));
        // A round of the delivery after the step (the trim follows it): the poll's tick of the step is lost when an idle
        // loop lengthens its period at that moment, and the manual clock brings no later one (CI failed on it once).
        await DeliveryBarrierAsync();
        await Eventually.True(async () => await Outbox.EnqueueAsync(notice, audience) == 50, "the delivered notices were deleted");
    }

    [Fact]
    public async Task Notices_pending_at_a_restart_are_delivered_after_it_and_each_customer_gets_each_notice_exactly_once()
    {
        await ImportSampleAsync();
        var detected = new OutageNotice(NoticeKind.OutageDetected, "OUT-4", 0, Now, Now, Now.AddHours(2));
        await Outbox.EnqueueAsync(detected, new NoticeAudience(["TA-000001"]));
        await Eventually.True(() => DeliveredFor("OUT-4").Count == 50, "TA-000001 was told before the restart");

        // TA-000002: the SMS lines are written but the silo dies before the outbox hears back.
        // TA-000003: the SMS gateway is down; nothing is written.
        var smsOf2 = (await CustomersOfAreaAsync("TA-000002")).Count(c => c.Phone is not null);
        _sms.Mode = GatewayMode.CrashAfterSending;
        await Outbox.EnqueueAsync(detected, new NoticeAudience(["TA-000002"]));
        await Eventually.True(() => _sms.Failed.Count == smsOf2, "the SMS of TA-000002 were sent, the silo crashed before marking them");
        _sms.Mode = GatewayMode.Down;
        await Outbox.EnqueueAsync(detected, new NoticeAudience(["TA-000003"]));
        var smsOf3 = (await CustomersOfAreaAsync("TA-000003")).Count(c => c.Phone is not null);
        await Eventually.True(() => _sms.Failed.Count == smsOf2 + smsOf3, "the SMS of TA-000003 failed");

        _sms.Mode = GatewayMode.Up;
        await _silo.RestartAsync(downFor: Lease);

        await Eventually.True(() => DeliveredFor("OUT-4").Count == 150, "after the restart every customer of the three areas was told");
        await DeliveryBarrierAsync();
        Assert.Equal(0, await Outbox.EnqueueAsync(detected, new NoticeAudience(["TA-000001", "TA-000002", "TA-000003"])));
        _silo.Advance(Lease);
        await DeliveryBarrierAsync();
        var delivered = DeliveredFor("OUT-4");
        Assert.Equal(150, delivered.Count);
        Assert.Equal(150, delivered.Select(n => n.CustomerId).Distinct().Count());
        // Handed to the gateway again after the restart, both the ones it had sent and the ones it had not.
        Assert.Equal(smsOf2 + smsOf3, _sms.Accepted.Count(m => m.Attempt == 2));
    }

    [Fact]
    public async Task A_failing_channel_is_retried_after_the_lease_and_each_notice_is_accepted_by_the_gateway_once()
    {
        await ImportSampleAsync();
        var sms = (await CustomersOfAreaAsync("TA-000001")).Count(c => c.Phone is not null);
        _sms.Mode = GatewayMode.Down;

        await Outbox.EnqueueAsync(new OutageNotice(NoticeKind.OutageDetected, "OUT-5", 0, Now), new NoticeAudience(["TA-000001"]));

        await Eventually.True(() => _sms.Failed.Count == sms, "the gateway refused the first attempt");
        Assert.Empty(_sms.Accepted);
        Assert.Equal(50 - sms, DeliveredFor("OUT-5").Count);
        _sms.Mode = GatewayMode.Up;
        _silo.Advance(Lease);
        await Eventually.True(() => _sms.Accepted.Count == sms, "the SMS went out after the lease ran out");
        _silo.Advance(Lease);
        await DeliveryBarrierAsync();
        Assert.Equal(sms, _sms.Accepted.Select(m => m.DeduplicationKey).Distinct().Count());
        Assert.Equal(sms, _sms.Accepted.Count);
        Assert.All(_sms.Accepted, m => Assert.Equal(2, m.Attempt));
        Assert.Equal(50, DeliveredFor("OUT-5").Count);
    }

    [Fact]
    public async Task The_notice_channel_column_of_the_customers_file_chooses_the_channel()
    {
        await ImportSampleAsync(through: ImportKind.Meters);
        var result = await ImportTextAsync(ImportKind.Customers, """
            customer_id,name,phone,meter_id,importance,area_class,latitude,longitude,notice_channel
            CU-1,王建国,13812345671,MT-0000001,ordinary,,20.03,110.33,wechat
            CU-2,李秀英,13812345672,MT-0000002,ordinary,,20.03,110.33,app
            CU-3,张伟,13812345673,MT-0000003,ordinary,,20.03,110.33,SMS
            CU-4,刘洋,13812345674,MT-0000004,ordinary,,20.03,110.33,
            CU-5,陈静,,MT-0000005,ordinary,,20.03,110.33,
            """);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors));

        await Outbox.EnqueueAsync(
            new OutageNotice(NoticeKind.PlannedOutageScheduled, "PO-1", 0, Now, Now.AddDays(7), Now.AddDays(7).AddHours(6), "线路检修"),
            new NoticeAudience(["TA-000001"]));

        await Eventually.True(() => DeliveredFor("PO-1").Count == 5, "the five customers were told");
        Assert.Equal(
            [("CU-1", "wechat", "CU-1"), ("CU-2", "app", "CU-2"), ("CU-3", "sms", "13812345673"), ("CU-4", "sms", "13812345674"), ("CU-5", "app", "CU-5")],
            DeliveredFor("PO-1").OrderBy(n => n.CustomerId).Select(n => (n.CustomerId, n.Channel, n.Recipient)));
        Assert.Contains("计划停电通知（PO-1）：2026-11-30 09:00 起停电", DeliveredFor("PO-1")[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Notices_for_a_channel_without_an_adapter_wait_in_the_outbox_until_one_is_configured()
    {
        _weChatConfigured = false;
        await _silo.RestartAsync();
        await ImportSampleAsync(through: ImportKind.Meters);
        await ImportTextAsync(ImportKind.Customers, """
            customer_id,name,phone,meter_id,latitude,longitude,notice_channel
            CU-1,王建国,13812345671,MT-0000001,20.03,110.33,wechat
            CU-2,李秀英,13812345672,MT-0000002,20.03,110.33,
            """);

        await Outbox.EnqueueAsync(new OutageNotice(NoticeKind.OutageDetected, "OUT-8", 0, Now), new NoticeAudience(["TA-000001"]));

        // Both were claimed in one batch: once the SMS is written, the WeChat notice has been passed over.
        await Eventually.True(() => DeliveredFor("OUT-8").Any(n => n.CustomerId == "CU-2"), "the SMS customer was told");
        Assert.DoesNotContain(DeliveredFor("OUT-8"), n => n.CustomerId == "CU-1");

        _weChatConfigured = true;
        await _silo.RestartAsync(downFor: Lease);

        await Eventually.True(() => DeliveredFor("OUT-8").Any(n => n.CustomerId == "CU-1"), "the WeChat notice went out once WeChat was configured");
        Assert.Equal([("CU-1", "wechat"), ("CU-2", "sms")], DeliveredFor("OUT-8").OrderBy(n => n.CustomerId).Select(n => (n.CustomerId, n.Channel)));
    }

    [Fact]
    public async Task A_notice_channel_that_is_unknown_or_sms_without_a_phone_is_reported_with_its_line_and_nothing_is_imported()
    {
        await ImportSampleAsync(through: ImportKind.Meters);

        var result = await ImportTextAsync(ImportKind.Customers, """
            customer_id,name,phone,meter_id,notice_channel,latitude,longitude
            CU-1,王建国,13812345671,MT-0000001,fax,20.03,110.33
            CU-2,李秀英,,MT-0000002,sms,20.03,110.33
            CU-3,张伟,,MT-0000003,wechat,20.03,110.33
            """);

        Assert.False(result.Succeeded);
        Assert.Equal([(2, "notice_channel"), (3, "notice_channel")], result.Errors.Select(e => (e.Line, e.Column)));
        Assert.Contains("'fax' is not one of sms, app, wechat", result.Errors[0].Message, StringComparison.Ordinal);
        Assert.Contains("sms needs a phone", result.Errors[1].Message, StringComparison.Ordinal);
        Assert.Equal(0, await _silo.Storage.CountCatalogAsync("customer"));
    }

    [Theory]
    [InlineData("", 0, "outageId")]
    [InlineData("OUT-6", -1, "revision")]
    public async Task A_notice_without_an_outage_or_with_a_negative_revision_is_refused_naming_the_field(string outageId, int revision, string field)
    {
        var error = await Assert.ThrowsAsync<InvalidFieldException>(() =>
            Outbox.EnqueueAsync(new OutageNotice(NoticeKind.OutageDetected, outageId, revision, Now), new NoticeAudience(["TA-000001"])));

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public async Task A_notice_for_an_area_with_no_customers_adds_nothing()
    {
        await ImportSampleAsync();

        Assert.Equal(0, await Outbox.EnqueueAsync(new OutageNotice(NoticeKind.OutageDetected, "OUT-7", 0, Now), new NoticeAudience(["TA-404"])));
    }

    /// <summary>Enqueues a notice to one app customer and waits until it is written: the outbox is claimed oldest first,
    /// so everything enqueued before it (and due) has been handed over by then.</summary>
    private async Task DeliveryBarrierAsync()
    {
        var outage = $"BARRIER-{++_barriers}";
        var appCustomer = (await CustomersOfAreaAsync("TA-000003")).First(c => c.Phone is null);
        await Outbox.EnqueueAsync(new OutageNotice(NoticeKind.PowerRestored, outage, 0, Now), new NoticeAudience([], [appCustomer.MeterId]));
        await Eventually.True(() => DeliveredFor(outage).Count == 1, $"the barrier notice {outage} was delivered");
    }

    private List<DeliveredNotice> DeliveredFor(string outageId) =>
        [.. NoticeFiles.Read(_silo.NoticeFolder).Where(n => n.OutageId == outageId)];

    /// <summary>The customers of an area as their grains describe them (150 customers: a grain call each is cheap).</summary>
    private async Task<List<CustomerProfile>> CustomersOfAreaAsync(string areaId)
    {
        var profiles = await Task.WhenAll(Enumerable.Range(1, 150).Select(i => _silo.Grain<ICustomerGrain>($"CU-{i:0000000}").GetProfile()));
        return [.. profiles.OfType<CustomerProfile>().Where(p => p.TransformerAreaId == areaId)];
    }

    private async Task ImportSampleAsync(ImportKind through = ImportKind.Customers)
    {
        foreach (var kind in TopologyOrder.TakeWhile(k => k <= through))
        {
            var result = await ImportTextAsync(kind, Sample[kind.Name() + ".csv"]);
            Assert.True(result.Succeeded, string.Join("; ", result.Errors));
        }
    }

    private Task<ImportResult> ImportTextAsync(ImportKind kind, string csv) =>
        new TopologyImport(_silo.Silo).ImportAsync(kind, new MemoryStream(Encoding.UTF8.GetBytes(csv)), "operator-zhao");

    private enum GatewayMode
    {
        Up,
        Down,
        CrashAfterSending,
    }

    /// <summary>An SMS gateway in front of the file-backed channel that the test can take down, or make "crash" after
    /// sending (the lines are written, the outbox is told nothing). It outlives silo restarts, like a real gateway.</summary>
    private sealed class SmsGateway
    {
        public volatile GatewayMode Mode;

        public ConcurrentQueue<NoticeMessage> Accepted { get; } = new();

        public ConcurrentQueue<NoticeMessage> Failed { get; } = new();

        public INoticeChannel Over(string folder) => new Adapter(this, new FileNoticeChannel(NoticeChannelNames.Sms, folder));

        private sealed class Adapter(SmsGateway gateway, FileNoticeChannel file) : INoticeChannel
        {
            public string Name => NoticeChannelNames.Sms;

            public async Task<NoticeDeliveryReport> DeliverAsync(IReadOnlyList<NoticeMessage> batch, CancellationToken cancellationToken)
            {
                var mode = gateway.Mode;
                if (mode == GatewayMode.Down)
                {
                    Record(gateway.Failed, batch);
                    throw new HttpRequestException("SMS gateway unavailable");
                }
                var report = await file.DeliverAsync(batch, cancellationToken);
                if (mode == GatewayMode.CrashAfterSending)
                {
                    Record(gateway.Failed, batch);
                    return new NoticeDeliveryReport([], [.. batch.Select(m => m.Id)]);
                }
                Record(gateway.Accepted, batch);
                return report;
            }

            private static void Record(ConcurrentQueue<NoticeMessage> queue, IReadOnlyList<NoticeMessage> batch)
            {
                foreach (var message in batch)
                {
                    queue.Enqueue(message);
                }
            }
        }
    }
}
